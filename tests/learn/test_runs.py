"""Run registry: status on disk, interrupted runs, listing, baselines stored without pickle."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from xanes_core.errors import RunError
from xanes_core.learn import runs
from xanes_core.paths import runs_root


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_running_run_of_a_dead_process_reads_as_interrupted(tmp_path, monkeypatch):
    # A cache of its own: the suite-wide one holds runs of other tests (e.g. the CLI's failed ones).
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))
    run_dir = runs.new_run_dir("symmetry")
    assert run_dir.parent == runs_root()
    runs.write_config(run_dir, {"model": "symmetry", "created": "2026-01-01T00:00:00"})
    runs.write_status(run_dir, "running", "epoch 3")
    assert runs.read_status(run_dir)["status"] == "running"  # this process is alive
    status = json.loads((run_dir / runs.STATUS).read_text())
    (run_dir / runs.STATUS).write_text(json.dumps({**status, "pid": _dead_pid()}))
    assert runs.read_status(run_dir)["status"] == "interrupted"
    listed = runs.list_runs()
    assert [r.run_id for r in listed] == [run_dir.name] and listed[0].status == "interrupted"


def test_out_folder_holding_a_run_is_refused(tmp_path):
    run_dir = runs.new_run_dir("core", tmp_path / "mine")
    runs.write_config(run_dir, {"model": "core"})
    with pytest.raises(RunError):
        runs.new_run_dir("core", run_dir)
    with pytest.raises(RunError):
        runs.load_run(tmp_path / "nothing-here")


def test_incomplete_run_cannot_be_loaded(tmp_path):
    run_dir = runs.new_run_dir("core", tmp_path / "half")
    runs.write_config(run_dir, {"model": "core"})
    with pytest.raises(RunError):
        runs.load_run(run_dir)
