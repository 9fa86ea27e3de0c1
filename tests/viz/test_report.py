"""HTML report: metrics present, self-contained (plotly.js inlined once, no external source), CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.viz.attribution_data import synthetic_attribution
from xanes_core.analysis.attribution import attribution_path
from xanes_core.cli import main
from xanes_core.data.class_means import CLASS_MEANS_FILE
from xanes_core.data.dataset import XanesDataset
from xanes_core.data.elements import CHANNELS, N_CHANNELS
from xanes_core.errors import RunError
from xanes_core.learn import runs
from xanes_core.learn.binding import record_dataset
from xanes_core.learn.evaluation import evaluate_predictions
from xanes_core.learn.run_settings import update_settings
from xanes_core.viz.report import REPORT_ELEMENTS, build_report


def make_run(folder: Path, dataset: Path, model: str, seed: int, history: bool = True) -> Path:
    """A completed run folder bound to ``dataset``, with metrics from synthetic scores (no training)."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(30, int), np.zeros(70, int)]
    presence = np.zeros((100, N_CHANNELS))
    presence[np.arange(100), rng.choice([CHANNELS.index(s) for s in ("Fe", "Bi", "Se")], 100)] = 1
    held_out = np.r_[np.ones(15, int), np.zeros(35, int)]
    evaluation = evaluate_predictions(labels, np.clip(0.3 * labels + rng.uniform(0, 0.7, 100), 0, 1), presence,
                                      rng.normal(size=(100, 4)), [f"demo-{i}" for i in range(100)],
                                      reference=np.clip(0.5 * labels + rng.uniform(0, 0.5, 100), 0, 1),
                                      validation=(held_out, np.clip(0.3 * held_out + rng.uniform(0, 0.7, 50), 0, 1)))
    folder.mkdir(parents=True)
    bound = record_dataset(folder, XanesDataset.load(dataset), dataset)  # as the Trainer binds a run
    runs.write_config(folder, {"dataset": str(dataset), "model": model, "epochs": 3, "created": "2026-11-24T10:00:00+00:00",
                               "model_config": {"filters": [4, 8, 4]}, **bound})
    if history:
        runs.write_history(folder, [{"epoch": e, "loss": 0.6, "val_loss": 0.65, "accuracy": 0.7, "val_accuracy": 0.68,
                                     "val_balanced_accuracy": 0.66} for e in (1, 2, 3)])
    runs.write_metrics(folder, evaluation.to_dict())
    runs.write_status(folder, "completed", "finished in 1.0 s")
    return folder


@pytest.fixture(scope="module")
def run_pair(demo_small_path: Path, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report-runs")
    return (make_run(root / "cnn", demo_small_path, "symmetry", 0),
            make_run(root / "svm", demo_small_path, "svm", 1, history=False))


def test_report_title_summary_box_table_1_and_no_paths(run_pair, demo_small_path, demo_small, tmp_path) -> None:
    """Named run, a no-spectra baseline beside it, the dataset's Table 1, and nothing that names
    a folder of this machine (the dataset and runs live under absolute temporary paths)."""
    cnn = make_run(tmp_path / "named", demo_small_path, "symmetry", 2)
    make_run(tmp_path / "no-spectra", demo_small_path, "elements", 3, history=False)
    update_settings(cnn, name="Bi selenides, seed 2", note="for the group meeting")
    html = build_report(cnn)
    assert "<title>Bi selenides, seed 2: CNN + symmetry on dataset &#x27;demo-small&#x27;</title>" in html
    summary = html[html.index('class="summary"'):html.index("</div>", html.index('class="summary"'))]
    assert "Balanced accuracy" in summary and "ROC AUC" in summary and "no spectra" in summary
    assert "for the group meeting" in summary
    by_count = demo_small.summary()["by_element_count"]
    assert "paper Table 1" in html and all(f"<td>{topo}</td>" in html for topo, _ in by_count.values())
    assert str(tmp_path) not in html and str(demo_small_path) not in html
    assert not re.search(r"(?<![\w.])/(tmp|home|root|work|usr)/", html.split("<script", 1)[0])
    element_table = html[html.index("<th>element</th>"):]
    assert element_table[:element_table.index("</tr>")].count("<th>") == 7  # fits A4 portrait


def test_report_follows_the_saved_operating_point(run_pair, demo_small_path, tmp_path) -> None:
    cnn = make_run(tmp_path / "cut", demo_small_path, "symmetry", 0)
    update_settings(cnn, threshold=0.8, threshold_rule="topological_f1")
    html = build_report(cnn)
    metrics = json.loads((cnn / runs.METRICS).read_text())
    scores = metrics["scores"]["test"]
    predicted = np.asarray(scores["probability"]) >= 0.8
    labels = np.asarray(scores["label"])
    recall = (predicted & (labels == 1)).sum() / (labels == 1).sum()
    assert f"{recall:.3f}" in html and "threshold 0.800" in html and "best topological F1 on validation" in html

def test_report_holds_metrics_provenance_and_is_self_contained(run_pair) -> None:
    cnn, _ = run_pair
    html = build_report(cnn)
    metrics = json.loads((cnn / runs.METRICS).read_text())
    assert f"{metrics['test']['balanced_accuracy']:.3f}" in html
    assert f"{metrics['test']['topological']['recall']:.3f}" in html
    assert f"{metrics['reference_balanced_accuracy']:.3f}" in html
    assert "synthetic demo data" in html and "xanes_core.data.demo" in html  # demo label, provenance
    assert "tensorflow" in html and "Report generated" in html
    assert not re.search(r"<script[^>]*\bsrc=", html) and not re.search(r"<link[^>]*\bhref=", html)
    assert html.count("plotly.js v") == 1  # the library inlined exactly once
    assert html.count('class="plotly-graph-div"') == 2 + 6 + 2 + 1 + 1 + 2  # + the reliability diagram


def test_report_compares_runs_and_handles_baselines(run_pair) -> None:
    cnn, svm = run_pair
    html = build_report(svm, compare=[cnn])
    assert "fitted in one step" in html and "Runs compared" in html
    assert "SVM (RBF) · svm" in html and "CNN + symmetry · cnn" in html


def test_unfinished_run_is_refused(run_pair, tmp_path) -> None:
    runs.write_config(tmp_path, {"dataset": "x", "model": "core"})
    runs.write_status(tmp_path, "failed", "boom")
    with pytest.raises(RunError, match="not completed"):
        build_report(tmp_path)


def test_report_cli_writes_the_file(run_pair, tmp_path, capsys) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(run_pair[0]), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == str(out)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_report_shows_the_cached_attribution_or_says_how_to_make_it(run_pair, demo_small_path, demo_small,
                                                                    tmp_path) -> None:
    cnn = make_run(tmp_path / "explained", demo_small_path, "symmetry", 4)
    before = build_report(cnn)
    assert "No attribution data in run explained yet: `python -m xanes_core attribute RUN_DIR`" in before
    attribution, means = synthetic_attribution(demo_small)
    attribution.save(attribution_path(cnn, "test"))
    means.save(cnn / CLASS_MEANS_FILE)
    html = build_report(cnn)
    section = html[html.index("Spectral indicators: where in energy"):html.index("Configuration, data and software")]
    shown = min(REPORT_ELEMENTS, int((demo_small.metadata.iloc[demo_small.split_indices("test")]["elements"]
                                      .explode().nunique())))
    assert section.count('class="plotly-graph-div"') == 1 + shown  # the periodic table and the elements
    assert "How spectrally informative is each element" in section and "top ranges (eV)" in section
    assert "Completeness: within 0.0040" in section
    assert str(tmp_path) not in html and str(demo_small_path) not in html
    table = section[section.index("<th>element</th>"):]
    assert table[:table.index("</tr>")].count("<th>") <= 7  # fits A4 portrait
    (cnn / "attribution-test.npz").write_bytes(b"broken")
    damaged = build_report(cnn)
    assert "explained/attribution-test.npz is damaged" in damaged and str(tmp_path) not in damaged
    assert "svm baseline: attribution over energy needs a CNN run" in build_report(run_pair[1])
