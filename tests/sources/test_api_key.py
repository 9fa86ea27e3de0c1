"""The server's Materials Project key goes only to the official or operator-listed endpoints.

Unit tests of :func:`resolve_access`, then the real build and the real CLI against a local
listener that records every request's headers: with only the server's key available and an
endpoint a visitor chose, nothing (and so no key) reaches that listener.
"""

from __future__ import annotations

import pytest

from tests.sources.mp_server import FakeMaterialsProject
from xanes_core.cli.main import main
from xanes_core.errors import SourceError
from xanes_core.sources.api_key import (
    KEY_ENDPOINTS_ENV,
    OFFICIAL_ENDPOINT,
    VISITOR_ENDPOINTS_ENV,
    normalize_endpoint,
    resolve_access,
    server_key_endpoints,
)
from xanes_core.sources.materials_project import build_mp_dataset

SERVER_KEY = "S3rv3rK3yS3rv3rK3yS3rv3rK3yS3rv3"
VISITOR_KEY = "V1s1t0rK3yV1s1t0rK3yV1s1t0rK3yV1"
CATALOGUE = "mp_id,icsd,formula,label\nmp-13,,Fe,0\n"


@pytest.fixture
def server_key(monkeypatch):
    monkeypatch.setenv("MP_API_KEY", SERVER_KEY)
    monkeypatch.delenv(KEY_ENDPOINTS_ENV, raising=False)
    return SERVER_KEY


@pytest.fixture
def listener():
    """A real socket server (the MP stand-in, empty) recording every request's headers."""
    with FakeMaterialsProject([], [], SERVER_KEY) as fake:
        yield fake


def test_blank_endpoint_is_the_official_one_with_the_server_key(server_key) -> None:
    access = resolve_access(None, "  ")
    assert (access.key, access.endpoint, access.server_key) == (SERVER_KEY, OFFICIAL_ENDPOINT, True)
    assert SERVER_KEY not in repr(access)


@pytest.mark.parametrize("endpoint", ["https://api.materialsproject.org", "HTTPS://API.MaterialsProject.org/",
                                      "https://api.materialsproject.org:443/"])
def test_spellings_of_the_official_endpoint_get_the_server_key(server_key, endpoint) -> None:
    access = resolve_access("", endpoint)
    assert access.key == SERVER_KEY and access.endpoint == OFFICIAL_ENDPOINT


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:8000/",
    "http://api.materialsproject.org/",  # plain text: anyone on the path reads the header
    "https://api.materialsproject.org.attacker.example/",
    "https://api.materialsproject.org:8443/",
    "https://api.materialsproject.org/elsewhere/",
])
def test_server_key_is_refused_for_any_other_endpoint(server_key, endpoint) -> None:
    with pytest.raises(SourceError, match="enter your own API key") as info:
        resolve_access(None, endpoint)
    assert SERVER_KEY not in str(info.value)


def test_a_typed_key_goes_where_its_owner_points_it(server_key) -> None:
    access = resolve_access(f" {VISITOR_KEY} ", "http://127.0.0.1:8000")
    assert (access.key, access.endpoint, access.server_key) == (VISITOR_KEY, "http://127.0.0.1:8000/", False)


def test_a_public_server_limits_visitors_not_scripts(server_key, monkeypatch) -> None:
    monkeypatch.setenv(VISITOR_ENDPOINTS_ENV, "listed")
    with pytest.raises(SourceError, match="builds only from") as info:
        resolve_access(VISITOR_KEY, "http://127.0.0.1:8000", visitor=True)
    assert VISITOR_KEY not in str(info.value)
    assert resolve_access(VISITOR_KEY, None, visitor=True).endpoint == OFFICIAL_ENDPOINT
    assert resolve_access(VISITOR_KEY, "http://127.0.0.1:8000").key == VISITOR_KEY  # a script of the operator's
    monkeypatch.setenv(KEY_ENDPOINTS_ENV, "http://127.0.0.1:8000")
    assert resolve_access(VISITOR_KEY, "http://127.0.0.1:8000", visitor=True).key == VISITOR_KEY
    monkeypatch.setenv(VISITOR_ENDPOINTS_ENV, "some")
    with pytest.raises(SourceError, match="must be 'any' or 'listed'"):
        resolve_access(VISITOR_KEY, "http://127.0.0.1:8000", visitor=True)


def test_operator_listed_endpoints_get_the_server_key(server_key, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENDPOINTS_ENV, "http://mirror.lab.internal:8080/api, https://MP.Example.org")
    assert server_key_endpoints() == (OFFICIAL_ENDPOINT, "http://mirror.lab.internal:8080/api/",
                                      "https://mp.example.org/")
    assert resolve_access(None, "http://mirror.lab.internal:8080/api").key == SERVER_KEY
    assert resolve_access(None, "https://mp.example.org/").endpoint == "https://mp.example.org/"
    with pytest.raises(SourceError, match="enter your own API key"):
        resolve_access(None, "http://mirror.lab.internal:8081/api/")


def test_malformed_operator_list_is_an_error_not_ignored(server_key, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENDPOINTS_ENV, "ftp://mirror.example/")
    with pytest.raises(SourceError, match=KEY_ENDPOINTS_ENV):
        resolve_access(None, "https://mp.example.org/")


def test_no_key_anywhere(monkeypatch) -> None:
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(SourceError, match="No Materials Project API key"):
        resolve_access("  ", None)


@pytest.mark.parametrize("bad", ["api.materialsproject.org",
                                 "https://api.materialsproject.org@attacker.example/",  # the host is the attacker's "ftp://x.example/", "http://:80/",
                                 "https://x.example/?key=1", "https://x.example/#top", "http://x.example:99999/"])
def test_what_is_not_an_endpoint(bad, server_key) -> None:
    with pytest.raises(SourceError, match="not an http\\(s\\) endpoint"):
        normalize_endpoint(bad)
    with pytest.raises(SourceError, match="not an http\\(s\\) endpoint"):
        resolve_access(None, bad)


def test_build_with_the_server_key_never_contacts_a_visitor_endpoint(server_key, listener, tmp_path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    from xanes_core.sources.labels import read_labels

    (tmp_path / "catalogue.csv").write_text(CATALOGUE)
    with pytest.raises(SourceError, match="enter your own API key"):
        build_mp_dataset(read_labels(tmp_path / "catalogue.csv"), tmp_path / "mp", endpoint=listener.endpoint)
    assert listener.headers == [] and not (tmp_path / "mp").exists()


def test_cli_refuses_the_server_key_for_an_unlisted_endpoint(server_key, listener, tmp_path, monkeypatch,
                                                             capsys) -> None:
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    (tmp_path / "catalogue.csv").write_text(CATALOGUE)
    argv = ["fetch-mp", "--labels", str(tmp_path / "catalogue.csv"), "--endpoint", listener.endpoint,
            "--out", str(tmp_path / "mp")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and KEY_ENDPOINTS_ENV in captured.err
    assert SERVER_KEY not in captured.err
    assert listener.headers == []
    monkeypatch.setenv(KEY_ENDPOINTS_ENV, listener.endpoint)  # the operator allows it: the key is sent
    assert main(argv) == 2  # mp-13 is not on this empty server: nothing to save
    assert listener.received(SERVER_KEY)
    assert SERVER_KEY not in capsys.readouterr().err
    assert listener.count("summary") == 1  # the build did run against the listed endpoint


class _Redirector:
    """A listed endpoint that answers every request with a redirect to another host (the
    listener): ``requests`` would carry the x-api-key header along if it followed it."""

    def __init__(self, target: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(302)
                self.send_header("Location", target.rstrip("/") + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> "_Redirector":
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_server_key_does_not_follow_a_redirect_to_another_host(server_key, listener, tmp_path,
                                                                  monkeypatch) -> None:
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    from xanes_core.sources.labels import read_labels
    from xanes_core.sources.mp_client import RetryPolicy

    (tmp_path / "catalogue.csv").write_text(CATALOGUE)
    with _Redirector(listener.endpoint) as redirector:
        monkeypatch.setenv(KEY_ENDPOINTS_ENV, redirector.endpoint)  # listed: it may receive the key
        with pytest.raises(SourceError) as refused:
            build_mp_dataset(read_labels(tmp_path / "catalogue.csv"), tmp_path / "mp", endpoint=redirector.endpoint,
                             retry=RetryPolicy(attempts=1, initial_delay_s=0.001, max_delay_s=0.001))
    assert SERVER_KEY not in str(refused.value) and "\n" not in str(refused.value)
    assert not listener.received(SERVER_KEY)  # the redirect target never saw the server's key
    assert not (tmp_path / "mp").exists()
