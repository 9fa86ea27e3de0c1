"""A real PostgreSQL server for tests: started from the machine's binaries in a temporary folder
on a free local port, stopped (and the folder removed) afterwards.

The binaries are found through $PG_BIN, ``pg_config --bindir``, /usr/lib/postgresql/*/bin
(newest first) or the PATH. initdb refuses to run as root, so as root the server runs as the
``postgres`` user (Debian's package creates it). Tests that need the server are skipped, with
the reason, only when no binaries are found.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_USER = "postgres"
DATABASE = "postgres"
PASSWORD = "not-a-real-secret"  # trust authentication ignores it; it is there to be masked


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    candidates = [os.environ.get("PG_BIN", "")]
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    candidates += [str(path) for path in versions]
    candidates.append(str(Path(shutil.which("initdb") or "/nonexistent").parent))
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], user: str | None) -> None:
    result = subprocess.run(command, user=user, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {result.stderr[-1500:] or result.stdout[-1500:]}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://postgres:***@127.0.0.1:PORT/postgres`` of a server alive for the session."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) found: set PG_BIN or install Debian's "
                    "postgresql package (.ci/run does)")
    user = SERVER_USER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="xanes-pg-"))
    if user is not None:
        try:
            account = pwd.getpwnam(user)
        except KeyError:
            raise RuntimeError(f"initdb cannot run as root and there is no '{user}' user to run it as") from None
        os.chown(folder, account.pw_uid, account.pw_gid)
    data, port = folder / "data", _free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
          "--encoding=UTF8"], user)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"),
          "-w", "-t", "60", "start"], user)
    _stop_when_orphaned(bindir, data, folder, user)
    try:
        yield f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       user=user, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_when_orphaned(bindir: Path, data: Path, folder: Path, user: str | None) -> None:
    """A watchdog that stops the server and removes its folder if this test process dies without
    running the fixture's teardown (killed by a timeout, say), so no server outlives its tests."""
    script = (f"while [ -d /proc/{os.getpid()} ]; do sleep 5; done; "
              f"'{bindir / 'pg_ctl'}' -D '{data}' -m immediate -w stop; rm -rf '{folder}'")
    subprocess.Popen(["sh", "-c", script], user=user, start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
