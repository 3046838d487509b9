"""Vendor sub-commands of ``connectors``: ``connectors login cobot`` and ``connectors login robaws``.

The flow itself is generic (``Connectors.core.login``); this module knows each vendor's endpoints,
default scopes, variables and token-store key.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from Connectors.cli import COMMANDS
from Connectors.core.config import env, require, secret_value
from Connectors.core.errors import ConfigurationError
from Connectors.core.login import (
    LoginSettings,
    can_open_browser,
    describe,
    fetch_without_browser,
    open_in_browser,
    run_login,
)
from Connectors.core.tokens import TokenStore


@dataclass(frozen=True)
class LoginProfile:
    prefix: str
    default_url: str
    authorize_path: str
    token_path: str
    default_scopes: tuple[str, ...]
    store_key: Callable[[str], str]
    openid: bool = False


def _cobot_key(client_id: str) -> str:
    from Connectors.vendors.cobot.client import token_store_key

    return token_store_key(client_id)


def _robaws_key(client_id: str) -> str:
    from Connectors.vendors.robaws.client import token_store_key

    return token_store_key(client_id)


PROFILES = {
    "cobot": LoginProfile(
        prefix="COBOT",
        default_url="https://www.cobot.me",
        authorize_path="/oauth/authorize",
        token_path="/oauth/access_token",
        default_scopes=(
            "openid",
            "read_user",
            "read_memberships",
            "read_invoices",
            "read_bookings",
            "write_bookings",
            "read_resources",
            "read_check_ins",
            "read_time_passes",
            "read_subscriptions",
            "write_subscriptions",
        ),
        store_key=_cobot_key,
        openid=True,
    ),
    "robaws": LoginProfile(
        prefix="ROBAWS",
        default_url="https://app.robaws.com",
        authorize_path="/oauth2/authorize",
        token_path="/oauth2/tokens",
        default_scopes=(
            "settings",
            "clients",
            "work-orders",
            "planning-items",
            "employees",
            "materials",
            "installations",
            "profile",
            "projects",
            "articles",
            "posts",
            "sales-orders",
            "stock-changes",
            "offers",
            "users",
        ),
        store_key=_robaws_key,
    ),
}


def _login_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Log in with the OAuth2 authorization-code flow (PKCE S256): open the printed URL, approve the "
        "access, and the token is stored in the token store (CONNECTORS_TOKEN_STORE)."
    )
    parser.add_argument("vendor", choices=sorted(PROFILES), help="whose app to log in to")
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
    parser.add_argument("--token-store", help="token store file (default CONNECTORS_TOKEN_STORE or ~/.connectors)")
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


def _client_secret(args: argparse.Namespace, prefix: str) -> str | None:
    given = secret_value(args.client_secret) or secret_value(env(f"{prefix}_CLIENT_SECRET"))
    if given:
        return given
    if sys.stdin.isatty():
        return secret_value(getpass.getpass(f"{prefix.title()} client secret: "))
    raise ConfigurationError(
        f"The {prefix.title()} client secret is not set.",
        hint=f"Set {prefix}_CLIENT_SECRET or pass --client-secret.",
    )


def settings_for(args: argparse.Namespace) -> LoginSettings:
    profile = PROFILES[args.vendor]
    base = (args.url or env(f"{profile.prefix}_URL", profile.default_url) or profile.default_url).rstrip("/")
    if args.space:
        if args.vendor != "cobot":
            raise ConfigurationError("--space is for Cobot only.", hint="Leave it out.")
        from Connectors.vendors.cobot.client import build_space_url

        base = build_space_url(None, args.space)
    client_id = require(
        args.client_id or env(f"{profile.prefix}_CLIENT_ID"),
        "The OAuth client id",
        f"{profile.prefix}_CLIENT_ID",
    )
    port = args.port if args.port is not None else int(env(f"{profile.prefix}_REDIRECT_PORT", "0") or 0)
    scopes = _scopes(args.scope, profile.default_scopes)
    verify = None
    if profile.openid and "openid" in scopes:
        from Connectors.core.oidc import DISCOVERY_PATH, OpenIDProvider, verify_id_token

        provider = OpenIDProvider.for_url(base + DISCOVERY_PATH)

        def verify(id_token: str, nonce: str | None) -> dict[str, object]:
            return verify_id_token(id_token, provider=provider, audience=client_id, nonce=nonce)

    return LoginSettings(
        authorize_url=base + profile.authorize_path,
        token_url=base + profile.token_path,
        client_id=client_id,
        client_secret=_client_secret(args, profile.prefix),
        store_key=profile.store_key(client_id),
        scopes=scopes,
        port=port,
        timeout=args.timeout,
        verify_id_token=verify,
    )


def _login(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    location = args.token_store or env("CONNECTORS_TOKEN_STORE")
    store = TokenStore(os.fspath(location) if location else None)
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
