"""Commands that use a run: a damaged run file is one error line naming it; an unexpected error
is one line saying where its traceback went (exit 1); library start-up noise stays off the terminal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xanes_core.cli import learn as learn_commands
from xanes_core.cli import main
from xanes_core.learn.config import ModelConfig
from xanes_core.learn.training import Trainer, TrainingConfig
from xanes_core.paths import logs_root

TINY = ModelConfig(filters=(4, 8, 4), dense_units=(16, 8))
# How each file is damaged: cut in half (a crash while copying), or overwritten with something else.
DAMAGE = {"model.keras": b"not a keras archive", "standardizer.npz": None, "splits.npz": None,
          "metrics.json": b"[1, 2]"}


@pytest.fixture(scope="module")
def run_dir(demo_small, demo_small_path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli-damaged") / "core"
    config = TrainingConfig(dataset=str(demo_small_path), model="core", epochs=1, augment=False, model_config=TINY)
    final = Trainer(config, out=out, dataset=demo_small).start().join()
    assert final.status == "completed", final.message
    return out


def damaged_copy(run_dir: Path, name: str, folder: Path) -> Path:
    copy = shutil.copytree(run_dir, folder / f"damaged-{name}")
    raw = (copy / name).read_bytes()
    (copy / name).write_bytes(raw[: len(raw) // 2] if DAMAGE[name] is None else DAMAGE[name])
    return copy


def assert_one_error_line(capsys, code: int, expected: int, *words: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == expected and captured.out == "" and len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and "Traceback" not in captured.err
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


@pytest.mark.parametrize("name", ["model.keras", "standardizer.npz", "splits.npz"])
def test_a_damaged_model_file_is_one_line_naming_it(run_dir, name, tmp_path, capsys, fixtures_dir):
    damaged = damaged_copy(run_dir, name, tmp_path)
    assert_one_error_line(capsys, main(["evaluate", str(damaged)]), 2, str(damaged / name))
    cobalt = fixtures_dir / "spectra" / "mp" / "LiCoO2_k_xanes.json"
    assert_one_error_line(capsys, main(["predict", "--run", str(damaged), str(cobalt)]), 2, str(damaged / name))


def test_damaged_metrics_are_one_line_naming_the_file(run_dir, tmp_path, capsys):
    damaged = damaged_copy(run_dir, "metrics.json", tmp_path)
    assert_one_error_line(capsys, main(["report", str(damaged)]), 2, str(damaged / "metrics.json"))
    assert not (damaged / "report.html").exists()


def test_an_unexpected_error_is_one_line_and_a_log_file(run_dir, monkeypatch, capsys):
    def broken(args):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(learn_commands, "evaluate", broken)
    line = assert_one_error_line(capsys, main(["evaluate", str(run_dir)]), 1, "ZeroDivisionError", "details in")
    log = Path(line.rsplit("details in ", 1)[1].rstrip(")"))
    assert log.parent == logs_root() and log.is_file()
    text = log.read_text()
    assert "Traceback" in text and "raise ZeroDivisionError" in text and f"evaluate {run_dir}" in text
