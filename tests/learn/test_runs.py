"""Run registry: status on disk, interrupted runs, listing, baselines stored without pickle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

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


def test_a_run_folder_is_never_given_twice(tmp_path, monkeypatch):
    """Two runs that draw the same name in the same second get two folders; an --out folder
    already given to a run (even one with no file of its own yet) is refused."""
    monkeypatch.setenv("XANES_CACHE", str(tmp_path / "cache"))

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 5, 12, 0, 0, tzinfo=tz)

    names = iter(["abc123", "abc123", "def456"])
    monkeypatch.setattr(runs, "datetime", Frozen)
    monkeypatch.setattr(runs.secrets, "token_hex", lambda n: next(names))
    first, second = runs.new_run_dir("core"), runs.new_run_dir("core")
    assert first != second and first.name.endswith("abc123") and second.name.endswith("def456")
    mine = runs.new_run_dir("core", tmp_path / "mine")
    with pytest.raises(RunError, match="already holds a run"):
        runs.new_run_dir("core", mine)
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "notes.txt").write_text("not a run")
    with pytest.raises(RunError, match="already holds a run or other files"):
        runs.new_run_dir("core", tmp_path / "papers")


def test_two_train_processes_into_one_cache_keep_their_runs_apart(demo_small_path, tmp_path):
    env = {**os.environ, "XANES_CACHE": str(tmp_path / "cache")}
    processes = [subprocess.Popen([sys.executable, "-m", "xanes_core", "train", "--dataset", str(demo_small_path),
                                   "--model", "elements", "--seed", str(seed)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for seed in (1, 2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in outputs]
    run_dirs = [Path(json.loads(out)["run_dir"]) for out, _ in outputs]
    assert run_dirs[0] != run_dirs[1]
    assert sorted(p.name for p in (tmp_path / "cache" / "runs").iterdir()) == sorted(p.name for p in run_dirs)
    for seed, run_dir in zip((1, 2), run_dirs):
        assert runs.read_config(run_dir)["seed"] == seed
        assert runs.read_status(run_dir)["status"] == "completed"
        assert runs.load_run(run_dir).metrics["test"]["n_samples"] > 0


def test_incomplete_run_cannot_be_loaded(tmp_path):
    run_dir = runs.new_run_dir("core", tmp_path / "half")
    runs.write_config(run_dir, {"model": "core"})
    with pytest.raises(RunError):
        runs.load_run(run_dir)
