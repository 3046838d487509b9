"""Shared pieces of the Robot Framework libraries (``Connectors.Robaws`` and friends).

A library is one ``DynamicCore`` assembled from keyword components that share its client. Its import
arguments are the vendor's connection settings (``Library    Connectors.Robaws    url=…``); the connect
keyword merges its own arguments over them, and any keyword used before it connects with both.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from robot.api.deco import keyword
from robotlibcore import DynamicCore

from Connectors import __version__
from Connectors.core import arguments, log
from Connectors.core.config import secret_value
from Connectors.core.errors import ConfigurationError
from Connectors.core.profile import Setting, VendorProfile
from Connectors.vendors.base import BaseClient

ClientT = TypeVar("ClientT", bound=BaseClient)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: The most items a list keyword returns unless told otherwise (``limit=0``: all; Python callers iterate).
DEFAULT_LIST_LIMIT = 1000


def collect(items: Iterable[T], limit: Any, what: str = "items") -> list[T]:
    """A list keyword's answer: the first ``limit`` items (``0`` or ``None``: all), saying when it stopped."""
    count = arguments.limit(limit)
    found = list(itertools.islice(items, count) if count is not None else items)
    if count is not None and len(found) == count:
        log.info(f"Returned the first {count} {what}; pass a higher limit (or limit=0 for all) to get more.")
    return found


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of a call that were given (``locals()`` of a keyword without ``self``)."""
    return {
        name: value
        for name, value in values.items()
        if name != "self" and not name.startswith("__") and value is not None
    }


def _annotation(setting: Setting) -> Any:
    from robot.api.types import Secret

    return (str | Secret | None) if setting.secret else (setting.kind | None)


def takes_settings(profile: VendorProfile) -> Callable[[F], F]:
    """Give a connect keyword or a library's ``__init__`` the profile's settings as its arguments.

    The function is written as ``(self, *args, **settings)``; its signature and type hints - what Libdoc,
    Robot Framework's argument conversion, IDEs and the generated stubs read - come from the profile, so
    the vendor's settings are listed once, there, and the import, the keyword and the client agree.
    """

    def decorate(function: F) -> F:
        parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        parameters += [
            inspect.Parameter(s.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=_annotation(s))
            for s in profile.settings
        ]
        function.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
        function.__annotations__ = {s.name: _annotation(s) for s in profile.settings} | {"return": None}
        return function

    return decorate


def bind_settings(method: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a ``takes_settings`` method was called with, by name (``method`` bound)."""
    return given(inspect.signature(method).bind(*args, **kwargs).arguments)


class ConnectorLibrary(DynamicCore, Generic[ClientT]):
    """Base of the vendor libraries."""

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    client_class: type[ClientT]

    def __init__(self, components: Sequence[Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        # The import arguments, by the names of the settings (the subclass's __init__ takes the profile's).
        self.import_settings = given(inspect.signature(type(self).__init__).bind(self, *args, **kwargs).arguments)
        for name, value in self.import_settings.items():
            # A misspelled import argument (pasword=…) came by position: hide it as the listener does for keywords.
            wrong = misspelled(value, self.profile.setting_names) if isinstance(value, str) else None
            if wrong:
                secret_value(value.split("=", 1)[1])
                self.import_settings[name] = f"{wrong}={HIDDEN}"
        for setting in self.profile.settings:
            if setting.secret:
                secret_value(self.import_settings.get(setting.name))
        self._client: ClientT | None = None
        self.ROBOT_LIBRARY_LISTENER: list[Any] = [CredentialGuard(self)]  # a vendor may append its own
        super().__init__([connection_keywords(self.profile)(self), *components])

    @property
    def profile(self) -> VendorProfile:
        return self.client_class.profile

    @property
    def client(self) -> ClientT:
        if self._client is None:
            self.auto_connect()
        assert self._client is not None
        return self._client

    @client.setter
    def client(self, value: ClientT) -> None:
        if self._client is not None and self._client is not value:
            self._client.close()
        self._client = value

    def connect(self, arguments: Mapping[str, Any]) -> ClientT:
        """A client from the import settings with ``arguments`` over them; logs where it connected."""
        overridden = given(arguments)
        imported = {name: value for name, value in self.import_settings.items() if name not in overridden}
        refuse_misnamed(self.profile, imported, f"The import of Connectors.{type(self).__name__}")
        refuse_misnamed(self.profile, overridden, f"'{self.profile.connect_keyword}'")
        client = self.client_class(**{**self.import_settings, **given(arguments)})
        self.client = client
        log.info(client.connection_line())
        return client

    def auto_connect(self) -> None:
        """Connect from the import settings and the environment when a keyword runs before the connect keyword."""
        try:
            self.connect({})
        except ConfigurationError as error:
            raise error.replace(
                message=f"Not connected to {self.profile.name}: {error.message}",
                hint=f"Call '{self.profile.connect_keyword}' first, or: {error.hint}",
            ) from None


class KeywordComponent(Generic[ClientT]):
    """A group of keywords sharing the library's client."""

    def __init__(self, library: ConnectorLibrary[ClientT]) -> None:
        self.library = library

    @property
    def client(self) -> ClientT:
        return self.library.client


class CredentialGuard:
    """Keeps credentials given as plain strings out of Robot Framework's log and error messages.

    Robot Framework writes every keyword's resolved arguments to the log at TRACE level. A ``Secret``
    shows as ``<secret>``, but a password passed as ``%{ROBAWS_PASSWORD}`` would be written in clear.
    While a keyword of this library that takes a credential runs - an argument named like one of the
    profile's secret settings, ``secret``, or typed ``Secret`` (an id token, say) - the log level is DEBUG
    instead of TRACE, so that argument line is never written; the level is restored when the keyword ends.
    (The values are registered with the redactor as soon as the client reads them, for every other log.)

    A misspelled named argument (``pasword=%{ROBAWS_PASSWORD}``) is no named argument at all: Robot
    Framework passes the whole text by position, and its value would then appear in a conversion error
    ("Argument 'burst' got value 'pasword=…'") or in a setting's message, at FAIL level. Before such a
    keyword's arguments are resolved, an argument ``name=${value}`` whose name is a near miss of one of
    its arguments is replaced by ``name=`` + ``HIDDEN``, so the value is never resolved, and the keyword
    fails without it (a connect keyword names the misspelled argument).
    """

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, library: ConnectorLibrary[Any]) -> None:
        self.library = library
        self.names = {setting.name for setting in library.profile.settings if setting.secret} | {"secret"}
        self._restore: list[str | None] = []

    def _guarded(self, implementation: Any) -> bool:
        owner = getattr(getattr(implementation, "owner", None), "instance", None)
        if owner is not self.library:
            return False
        spec = getattr(implementation, "args", None)
        names = set(getattr(spec, "argument_names", ()) or ())
        types = getattr(spec, "types", None) or {}
        typed = {name for name, hint in types.items() if "Secret" in str(hint)}
        return bool(names & (self.names | typed))

    def start_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        if not self._guarded(implementation):
            return
        _hide_misnamed(data, implementation)
        output = _output()
        level = output.set_log_level("DEBUG") if output else None
        if output and level != "TRACE":
            output.set_log_level(level)
        self._restore.append(level if level == "TRACE" else None)

    def end_library_keyword(self, data: Any, implementation: Any, result: Any) -> None:
        if not self._guarded(implementation) or not self._restore:
            return
        level = self._restore.pop()
        output = _output()
        if level and output:
            output.set_log_level(level)


#: What replaces the value of a misspelled named argument of a keyword taking a credential.
HIDDEN = "<hidden: no argument of this keyword has that name>"
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.ASCII | re.DOTALL)
_VARIABLE = re.compile(r"[$%@&]\{")


def misspelled(text: str, names: Iterable[str], *, literal: bool = True) -> str | None:
    """The name of ``name=value`` when it looks like a misspelling of one of ``names`` (``pasword=``).

    Only near misses count: a signature header ``t=…,v1=…`` is a value, not a misspelled argument. With
    ``literal=False`` (the text as written in the robot) only a value holding a variable counts: a literal
    value is in the robot's source anyway.
    """
    match = _NAMED.match(text)
    known = list(names)
    if not match or match.group(1) in known or (not literal and not _VARIABLE.search(match.group(2))):
        return None
    return match.group(1) if difflib.get_close_matches(match.group(1), known, n=1, cutoff=0.7) else None


def _hide_misnamed(data: Any, implementation: Any) -> None:
    """Replace misspelled ``name=${value}`` arguments by ``name=`` + ``HIDDEN`` before they are resolved."""
    spec = implementation.args
    if spec.var_named or not isinstance(getattr(data, "args", None), tuple):
        return  # **kwargs take any name
    hidden = []
    for argument in data.args:
        name = misspelled(argument, spec.argument_names, literal=False) if isinstance(argument, str) else None
        hidden.append(f"{name}={HIDDEN}" if name else argument)
    if hidden != list(data.args):
        data.args = tuple(hidden)


def refuse_misnamed(profile: VendorProfile, values: Mapping[str, Any], where: str) -> None:
    """One clear line for a setting that received a misspelled named argument (see ``CredentialGuard``)."""
    for setting, value in values.items():
        if isinstance(value, str) and value.endswith("=" + HIDDEN):
            name = value[: -len(HIDDEN) - 1]
            raise ConfigurationError(
                f"{where} has no argument {name!r} (it was given as {name}=… and taken as {setting} by "
                "position; its value is not shown).",
                hint=f"Check the spelling; the arguments are {', '.join(profile.setting_names)}.",
            )


def _output() -> Any:
    # Robot Framework's output object; BuiltIn's Set Log Level would log a line at every keyword.
    from robot.running.context import EXECUTION_CONTEXTS

    context = EXECUTION_CONTEXTS.current
    return context.output if context is not None else None


def connect_keyword(profile: VendorProfile) -> Any:
    """The ``Connect To <Vendor>`` keyword, written once for every vendor: its arguments are the profile's
    settings (``takes_settings``), merged over the library import's; its documentation says so, then the
    profile's ``connect_details`` and ``connect_examples`` (Robot Framework table rows)."""
    secrets = [f"``{setting.name}``" for setting in profile.settings if setting.secret]
    rows = [f"| {profile.connect_keyword} |", *inspect.cleandoc(profile.connect_examples).splitlines()]
    doc = f"""{profile.connect_summary}

        Every argument is optional: what is not given comes from the library import, the Vault or the
        ``{profile.prefix}_*`` variables, in the order described in `Connecting`. {" and ".join(secrets)} may be a
        ``Secret`` or plain text (``%{{{profile.prefix}_...}}``); never logged. The first log line names the URL
        (and says when it is the production default) and the client-side limit.

        {profile.connect_details}

        Example:
        {(chr(10) + "        ").join(rows)}
        """

    # The keyword's name comes from the attribute it is assigned to (connect_to_robaws = connect_keyword(…)).
    @keyword(tags=[profile.key, "connection"])
    @takes_settings(profile)
    def connect(self: KeywordComponent[Any], *args: Any, **settings: Any) -> None:
        self.library.connect(bind_settings(connect.__get__(self), args, settings))

    connect.__doc__ = inspect.cleandoc(doc)
    return connect


def rate_limit_status_keyword(profile: VendorProfile) -> Any:
    """The ``Get <Vendor> Rate Limit Status`` keyword, written once for every vendor."""

    @keyword(tags=[profile.key, "connection", "rate-limit"])
    def get_rate_limit_status(self: KeywordComponent[Any]) -> dict[str, Any]:
        return dict(self.client.rate_limit_status())

    get_rate_limit_status.__doc__ = f"""Return the client-side throttle state and what {profile.name} last reported.

        Keys: ``rate``, ``burst``, ``store``, ``waited_seconds``, ``waits``, ``remaining`` (tokens the
        server reported, when it does), ``workers`` (configured) and ``active_workers`` (seen in the shared
        store), ``daily`` (per mode: ``used``, ``limit``, ``remaining``, ``reset_seconds``, ``resets_at`` - the
        day's budget across every worker sharing the store),
        ``requests`` and ``retries`` so far{profile.rate_status_keys}.

        Example:
        | ${{status}} = | Get {profile.name} Rate Limit Status |
        | Log | ${{status}}[requests] requests, ${{status}}[waited_seconds] s waited |
        """
    return get_rate_limit_status


def connection_keywords(profile: VendorProfile) -> type[KeywordComponent[Any]]:
    """The component every library starts with: `Connect To <Vendor>` and `Get <Vendor> Rate Limit Status`."""
    words = profile.name.lower().replace(" ", "_")
    keywords = {
        f"connect_to_{words}": connect_keyword(profile),
        f"get_{words}_rate_limit_status": rate_limit_status_keyword(profile),
    }
    return type(f"{profile.name.replace(' ', '')}ConnectionKeywords", (KeywordComponent,), keywords)


def connecting_doc(profile: VendorProfile) -> str:
    """The "Connecting" section of a library's documentation, generated from its profile."""
    kinds = "; or ".join(
        f"{kind.name} (" + ", ".join(f"``{name}``" for name in kind.settings) + ")" for kind in profile.credentials
    )
    rows = "\n".join(
        f"| ``{setting.name}`` | ``{setting.variable or '-'}`` | {', '.join(f'``{key}``' for key in setting.keys)} "
        f"| {setting.doc}{' (a ``Secret`` or text; never logged)' if setting.secret else ''} |"
        for setting in profile.settings
    )
    return f"""= Connecting =

`{profile.connect_keyword}` connects with {kinds}. Every setting can also be given when the library is
imported (``Library    Connectors.{profile.name.replace(" ", "")}    url=…``), and `{profile.connect_keyword}`
merges its own arguments over those. Keywords used before `{profile.connect_keyword}` connect by themselves.

Each setting comes from the first of these that has it: the argument → the Vault secret named by
``vault_secret`` (its keys as in the table) → the environment variable → the Vault secret named by
``CONNECTORS_VAULT_SECRET`` (read only while a required setting is still missing). When more than one kind
of credential is configured, the kind found in the earliest of those sources wins.

| =Argument= | =Variable= | =Vault keys= | =Meaning= |
{rows}
"""
