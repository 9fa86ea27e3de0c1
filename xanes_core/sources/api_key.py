"""Which Materials Project key may go to which endpoint: the server's key never travels to a
host that a visitor chose.

The dashboard offers a free-text endpoint (another Materials Project-compatible server). If the
server's own ``MP_API_KEY`` were used whenever the key field is empty, any visitor could point a
build at a host of their own and receive that key in the ``x-api-key`` header. So:

- a key the caller gives (typed by that visitor, or passed by a script) goes wherever the caller
  points it: it is theirs;
- the key from ``MP_API_KEY`` goes only to the official endpoint
  (:data:`OFFICIAL_ENDPOINT`) or to endpoints the operator lists in
  ``XANES_MP_KEY_ENDPOINTS`` (comma- or space-separated URLs, e.g. a mirror inside the site).

A visitor's own key is theirs, but the server still makes the requests: on a public server the
operator sets ``XANES_MP_VISITOR_ENDPOINTS=listed`` so that the dashboard's builds go only to the
official and listed endpoints, whoever's key they carry (the default, ``any``, suits a server
for one group). Scripts and the CLI, run by whoever runs the server, are not limited by it.

Endpoints are compared by scheme, host, port and path after parsing, never as text prefixes,
so ``https://api.materialsproject.org@evil.example/`` or ``http://`` (plain text) do not pass
for the official endpoint. The CLI and the page share this rule through
:func:`resolve_access`; the decision is made on the exact URL the client is then given.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from xanes_core.errors import SourceError

OFFICIAL_ENDPOINT = "https://api.materialsproject.org/"
KEY_ENV = "MP_API_KEY"
KEY_ENDPOINTS_ENV = "XANES_MP_KEY_ENDPOINTS"
VISITOR_ENDPOINTS_ENV = "XANES_MP_VISITOR_ENDPOINTS"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Access:
    """The key to send and the exact endpoint to send it to (``repr`` hides the key)."""

    key: str
    endpoint: str
    server_key: bool  # True when the key is the server's MP_API_KEY

    def __repr__(self) -> str:
        return f"Access(endpoint={self.endpoint!r}, server_key={self.server_key})"


def resolve_access(api_key: str | None, endpoint: str | None, visitor: bool = False) -> Access:
    """The key and endpoint a build may use; :class:`SourceError` when there is none.

    ``endpoint`` blank means the official one. A blank ``api_key`` means the server's
    ``MP_API_KEY``, which is refused for an endpoint that is neither official nor listed in
    ``XANES_MP_KEY_ENDPOINTS`` (the message never contains any key). ``visitor``: the build was
    asked for by a dashboard visitor, refused for such an endpoint whatever the key when the
    operator allows visitors only the listed ones (:func:`visitors_choose_endpoints`).
    """
    target = normalize_endpoint(endpoint) if (endpoint or "").strip() else OFFICIAL_ENDPOINT
    if visitor and not visitors_choose_endpoints() and not may_receive_server_key(target):
        raise SourceError(
            f"This server builds only from {OFFICIAL_ENDPOINT} and the endpoints its operator lists in "
            f"{KEY_ENDPOINTS_ENV}; {target} is not one of them."
        )
    given = (api_key or "").strip()
    if given:
        return Access(given, target, server_key=False)
    server = os.environ.get(KEY_ENV, "").strip()
    if not server:
        raise SourceError(
            "No Materials Project API key: set MP_API_KEY or enter it (get one at "
            "https://materialsproject.org/api)."
        )
    if not may_receive_server_key(target):
        raise SourceError(
            f"The server's Materials Project key is sent only to {OFFICIAL_ENDPOINT} (or to "
            f"endpoints the operator lists in {KEY_ENDPOINTS_ENV}); enter your own API key to "
            f"use {target}."
        )
    return Access(server, target, server_key=True)


def visitors_choose_endpoints() -> bool:
    """Whether dashboard visitors may point a build at any endpoint with their own key
    (``XANES_MP_VISITOR_ENDPOINTS``: ``any``, the default, or ``listed``)."""
    value = os.environ.get(VISITOR_ENDPOINTS_ENV, "any").strip().lower() or "any"
    if value not in ("any", "listed"):
        raise SourceError(f"{VISITOR_ENDPOINTS_ENV} must be 'any' or 'listed' ('{value[:40]}' given).")
    return value == "any"


def may_receive_server_key(endpoint: str) -> bool:
    """Whether the server's key may be sent to ``endpoint`` (official or operator-listed)."""
    try:
        wanted = _identity(endpoint)
    except SourceError:
        return False
    return wanted in {_identity(allowed) for allowed in server_key_endpoints()}


def server_key_endpoints() -> tuple[str, ...]:
    """The official endpoint and those listed in ``XANES_MP_KEY_ENDPOINTS`` (normalized).

    A malformed entry in the operator's list is an error rather than silently ignored.
    """
    listed = [item for item in _SEPARATORS.split(os.environ.get(KEY_ENDPOINTS_ENV, "")) if item]
    try:
        extra = [normalize_endpoint(item) for item in listed]
    except SourceError as exc:
        raise SourceError(f"{KEY_ENDPOINTS_ENV}: {exc}") from None
    return tuple(dict.fromkeys([OFFICIAL_ENDPOINT, *extra]))


def normalize_endpoint(endpoint: str) -> str:
    """``scheme://host[:port]/path/`` of an http(s) URL; SourceError for anything else.

    User names, passwords, queries and fragments are refused: an endpoint has no use for them,
    and ``user@host`` is the classic way to make one host look like another.
    """
    scheme, host, port, path = _identity(endpoint)
    netloc = host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}"


def _identity(endpoint: str) -> tuple[str, str, int, str]:
    text = str(endpoint).strip()
    message = f"'{text[:200]}' is not an http(s) endpoint URL like {OFFICIAL_ENDPOINT}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise SourceError(f"{message}.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise SourceError(f"{message}.")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise SourceError(f"{message} (no user name, password, query or fragment).")
    path = parts.path.rstrip("/") + "/"
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], path
