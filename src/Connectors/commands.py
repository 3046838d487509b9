"""Vendor sub-commands of ``connectors``: ``connectors login cobot`` and ``connectors login robaws``.

The flow itself is generic (``Connectors.core.login``); this module knows each vendor's endpoints,
default scopes, variables and token-store key.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from Connectors.cli import COMMANDS
from Connectors.core.config import env, secret_value
from Connectors.core.errors import ConfigurationError
from Connectors.core.login import (
    LoginSettings,
    can_open_browser,
    describe,
    fetch_without_browser,
    open_in_browser,
    run_login,
)
from Connectors.core.profile import AuthScheme, VendorProfile
from Connectors.core.settings import resolve
from Connectors.core.tokens import TokenStore, open_token_store


def _profiles() -> dict[str, VendorProfile]:
    """The vendors whose profile has OAuth endpoints (imported lazily: each is a small data module)."""
    from Connectors.vendors import VENDORS

    profiles = [vendor.profile() for vendor in VENDORS]
    return {profile.key: profile for profile in profiles if profile.oauth}


def _login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Log in with the OAuth2 authorization-code flow (PKCE S256): open the printed URL, approve the "
        "access, and the token is stored in the token store (CONNECTORS_TOKEN_STORE)."
    )
    parser.add_argument("vendor", choices=sorted(_profiles()), help="whose app to log in to")
    parser.add_argument("--url", help="the vendor's URL (default <VENDOR>_URL, else the vendor's public site)")
    parser.add_argument("--client-id", help="OAuth client id (default <VENDOR>_CLIENT_ID)")
    parser.add_argument(
        "--client-secret",
        help="OAuth client secret (default <VENDOR>_CLIENT_SECRET, else asked for; prefer the variable: "
        "arguments end up in the shell history)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        help="scopes to request, space- or comma-separated, repeatable (default: all)",
    )
    parser.add_argument(
        "--space", help="Cobot: log in at a space's own endpoints (id tokens then carry the membership)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="loopback port of the redirect (default <VENDOR>_REDIRECT_PORT or "
        "any free port; register http://127.0.0.1:<port>/callback as the app's redirect URI)",
    )
    parser.add_argument(
        "--token-store",
        help="where to keep the token: a file, redis://host:port/db or vault:<secret name> (default "
        "CONNECTORS_TOKEN_STORE, else ~/.connectors/tokens.json)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the redirect")
    browser = parser.add_mutually_exclusive_group()
    browser.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    browser.add_argument(
        "--fetch-authorize-url",
        action="store_true",
        help="follow the URL with plain HTTP instead of a browser (providers that consent automatically, "
        "such as the sandbox)",
    )


def _scopes(values: list[str] | None, default: tuple[str, ...]) -> list[str]:
    if not values:
        return list(default)
    return [scope for value in values for scope in value.replace(",", " ").split() if scope]


def settings_for(args: argparse.Namespace) -> tuple[LoginSettings, TokenStore]:
    """The login's endpoints and client, from the arguments and then the vendor's usual sources."""
    profile = _profiles()[args.vendor]
    assert profile.oauth is not None
    given = {"url": args.url, "client_id": args.client_id, "client_secret": args.client_secret}
    if "token_store" in profile.setting_names:
        given["token_store"] = args.token_store
    settings = resolve(profile, given, scheme=AuthScheme.OAUTH, complete=False)
    base = settings.site_url
    if args.space:
        if args.vendor != "cobot":
            raise ConfigurationError("--space is for Cobot only.", hint="Leave it out.")
        from Connectors.vendors.cobot.client import build_space_url, space_url_template

        base = build_space_url(space_url_template(base, settings.text("space_url_template")), args.space)
    client_id = settings.require("client_id")
    secret = settings.text("client_secret")
    if not secret and sys.stdin.isatty():
        secret = secret_value(getpass.getpass(f"{profile.name} client secret: "))
    if not secret and "client_secret" in settings.kind.settings:
        settings.require("client_secret")
    port = args.port if args.port is not None else int(env(f"{profile.prefix}_REDIRECT_PORT", "0") or 0)
    scopes = _scopes(args.scope, profile.oauth.scopes)
    verify = None
    if profile.oauth.openid and "openid" in scopes:
        from Connectors.core.oidc import DISCOVERY_PATH, OpenIDProvider, verify_id_token

        provider = OpenIDProvider.for_url(base + DISCOVERY_PATH)

        def verify(id_token: str, nonce: str | None) -> dict[str, object]:
            return verify_id_token(id_token, provider=provider, audience=client_id, nonce=nonce)

    login = LoginSettings(
        authorize_url=base + profile.oauth.authorize_path,
        token_url=base + profile.oauth.token_path,
        client_id=client_id,
        client_secret=secret,
        store_key=profile.token_store_key(client_id),
        scopes=scopes,
        port=port,
        timeout=args.timeout,
        verify_id_token=verify,
    )
    return login, open_token_store(settings.token_store)


def _login(args: argparse.Namespace) -> int:
    settings, store = settings_for(args)
    if args.fetch_authorize_url:
        opener: Callable[[str], object] | None = fetch_without_browser
    elif args.no_browser or not can_open_browser():
        opener = None
    else:
        opener = open_in_browser
    result = run_login(settings, store, open_url=opener, out=lambda text: print(text, flush=True))
    print(describe(result), flush=True)
    return 0


COMMANDS["login"] = ("log in to a vendor with OAuth2 (authorization code + PKCE)", _login_arguments, _login)
