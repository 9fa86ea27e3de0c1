"""The official ``mp_api`` client, opened safely, and one retry policy around every request.

Why a wrapper at all: ``mp_api`` reports every HTTP problem as ``MPRestError`` with the status
code inside the message and retries 429/502/504 itself with fixed settings. We want one retry
policy in one place (configurable, so tests run in milliseconds; honouring a stop request while
waiting), a clear message for a refused key, and a guarantee that the key never appears in
any message we raise. So urllib3's own retries are switched off and :func:`call` decides.

Which key may go to which endpoint is decided before a client is opened
(:mod:`xanes_core.sources.api_key`); the key is then handed only to ``MPRester``, which keeps it
in its session headers. It is never logged, cached, or written anywhere.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, TypeVar

import requests
from requests.adapters import HTTPAdapter

from xanes_core.errors import SourceError

if TYPE_CHECKING:
    from mp_api.client import MPRester

T = TypeVar("T")

_STATUS = re.compile(r"status code (\d{3})")
_TRANSIENT_TEXT = ("timed out", "Connection", "Max retries exceeded", "RemoteDisconnected")


class BuildCancelled(SourceError):
    """The caller asked the build to stop; everything fetched so far stays cached."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for HTTP 429, 5xx, timeouts and dropped connections."""

    attempts: int = 5
    initial_delay_s: float = 2.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.max_delay_s, self.initial_delay_s * 2.0**attempt)


def open_client(api_key: str, endpoint: str, policy: RetryPolicy,
                cancel: threading.Event | None = None, follow_redirects: bool = True) -> "MPRester":
    """An ``MPRester`` returning plain JSON dicts (so raw answers can be cached as JSON).

    ``endpoint`` is the exact URL :func:`~xanes_core.sources.api_key.resolve_access` approved
    for this key (never ``None``, which would let ``mp_api`` pick one from its own settings).
    With ``follow_redirects=False`` (the server's own key) a redirect is an error: ``requests``
    would carry the ``x-api-key`` header to whatever host the redirect names. Opening the client
    asks the server's ``heartbeat`` for the database version, so it goes through the retry
    policy too.
    """
    from mp_api.client import (
        MPRester,  # heavy import (pymatgen, emmet): only when fetching
    )

    def _open() -> "MPRester":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # version-notice warnings are not the user's business
            client = MPRester(
                api_key=api_key, endpoint=endpoint, use_document_model=False,
                mute_progress_bars=True,
            )
        for prefix in ("http://", "https://"):
            client.session.mount(prefix, HTTPAdapter(max_retries=0))
        if not follow_redirects:
            client.session.max_redirects = 0  # refused before the redirected request is sent
        return client

    return call(_open, policy, api_key, cancel)


def call(request: Callable[[], T], policy: RetryPolicy, api_key: str,
         cancel: threading.Event | None = None) -> T:
    """Run ``request``, retrying transient failures; map the rest to :class:`SourceError`."""
    last = ""
    for attempt in range(policy.attempts):
        if cancel is not None and cancel.is_set():
            raise BuildCancelled("The Materials Project build was stopped.")
        try:
            return request()
        except Exception as exc:  # mp_api raises MPRestError; requests its own family
            status, text = _describe(exc, api_key)
            if status in (401, 403):
                raise SourceError(
                    "Materials Project refused the API key (HTTP "
                    f"{status}); check it at https://materialsproject.org/api."
                ) from None
            if "Valid API keys are 32 characters" in text:
                raise SourceError(
                    "That is not a Materials Project API key (they are 32 characters)."
                ) from None
            transient = status == 429 or (status is not None and status >= 500) or (
                status is None and any(t in text for t in _TRANSIENT_TEXT)
            )
            if not transient:
                raise SourceError(f"Materials Project request failed: {_first_line(text)}") from None
            last = f"HTTP {status}" if status else _first_line(text)
        if attempt + 1 < policy.attempts:
            wait = policy.delay(attempt)
            if cancel is not None:
                cancel.wait(wait)
            else:
                threading.Event().wait(wait)
    raise SourceError(
        f"Materials Project did not answer after {policy.attempts} attempts (last: {last}); "
        "try again later, the fetched part is cached."
    )


def _describe(exc: Exception, api_key: str) -> tuple[int | None, str]:
    """HTTP status (if the message carries one) and the message with the key redacted."""
    text = str(exc).replace(api_key, "***") if api_key else str(exc)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code, text
    match = _STATUS.search(text)
    return (int(match.group(1)) if match else None), text


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0]
    return line[:300] or "no details"
