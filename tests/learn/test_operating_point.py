"""Operating point: thresholds chosen on validation only, every number recomputed at a cut, and
the run settings that keep the choice."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xanes_core.data.elements import CHANNELS, N_CHANNELS
from xanes_core.errors import RunError
from xanes_core.learn import operating_point
from xanes_core.learn.evaluation import class_metrics, evaluate_predictions
from xanes_core.learn.run_settings import SETTINGS, read_settings, update_settings


def _metrics(seed: int = 0, test_shift: float = 0.0) -> dict:
    """Scores where topological materials score higher; ``test_shift`` moves only the test scores."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(40, int), np.zeros(160, int)]
    probabilities = np.clip(0.3 * labels + rng.uniform(0, 0.7, 200) + test_shift, 0, 1)
    presence = np.zeros((200, N_CHANNELS))
    presence[np.arange(200), rng.choice([CHANNELS.index(s) for s in ("Fe", "Bi", "Se")], 200)] = 1
    held_out = np.r_[np.ones(30, int), np.zeros(120, int)]
    validation = np.clip(0.3 * held_out + np.random.default_rng(99).uniform(0, 0.7, 150), 0, 1)
    evaluation = evaluate_predictions(labels, probabilities, presence, rng.normal(size=(200, 3)),
                                      [f"s{i}" for i in range(200)], validation=(held_out, validation))
    return json.loads(json.dumps(evaluation.to_dict()))  # as read back from metrics.json


def _brute_force(labels: np.ndarray, probabilities: np.ndarray, score) -> float:
    return max(score(class_metrics(labels, probabilities >= t)) for t in np.unique(probabilities))


def test_choices_are_the_best_cuts_on_validation() -> None:
    metrics = _metrics()
    found = {choice.rule: choice.threshold for choice in operating_point.choices(metrics)}
    assert found["paper"] == 0.5
    labels = np.asarray(metrics["scores"]["validation"]["label"])
    probabilities = np.asarray(metrics["scores"]["validation"]["probability"])
    balanced = lambda m: m["balanced_accuracy"]  # noqa: E731
    f1 = lambda m: m["topological"]["f1"] or 0.0  # noqa: E731
    assert balanced(class_metrics(labels, probabilities >= found["balanced_accuracy"])) == pytest.approx(
        _brute_force(labels, probabilities, balanced))
    assert f1(class_metrics(labels, probabilities >= found["topological_f1"])) == pytest.approx(
        _brute_force(labels, probabilities, f1))


def test_choices_never_look_at_the_test_split() -> None:
    """Moving every test score changes the test metrics but not one chosen threshold."""
    plain, shifted = _metrics(test_shift=0.0), _metrics(test_shift=0.2)
    assert plain["test"] != shifted["test"]
    assert operating_point.choices(plain) == operating_point.choices(shifted)


def test_at_threshold_recomputes_every_thresholded_number() -> None:
    metrics = _metrics()
    at = operating_point.at_threshold(metrics, 0.7)
    labels = np.asarray(metrics["scores"]["test"]["label"])
    predicted = np.asarray(metrics["scores"]["test"]["probability"]) >= 0.7
    assert at["threshold"] == 0.7 and at["test"] == class_metrics(labels, predicted)
    (tn, fp), (fn, tp) = at["confusion"]
    assert tp == int((predicted & (labels == 1)).sum()) and tn + fp + fn + tp == 200
    assert sum(v["n_samples"] for v in at["per_element"].values()) == 200  # one element per material
    assert at["per_element"]["Fe"]["topological"]["n_predicted"] <= metrics["per_element"]["Fe"]["topological"]["n_predicted"]
    assert at["curves"] == metrics["curves"]  # curves do not depend on the cut
    assert at["projection"]["boundary"]["b"] != pytest.approx(metrics["projection"]["boundary"]["b"])


def test_runs_without_scores_stay_at_the_paper_cut() -> None:
    metrics = {key: value for key, value in _metrics().items() if key != "scores"}
    assert operating_point.at_threshold(metrics, 0.5)["test"] == metrics["test"]
    with pytest.raises(RunError, match="evaluate"):
        operating_point.at_threshold(metrics, 0.3)
    assert not operating_point.has_scores(metrics)


def test_sweep_spans_thresholds_with_class_columns() -> None:
    sweep = operating_point.sweep(_metrics(), points=11)
    assert list(sweep["threshold"]) == pytest.approx(np.linspace(0, 1, 11))
    assert sweep.loc[0, "topological recall"] == 1.0 and sweep.loc[10, "trivial recall"] == 1.0


def test_settings_default_round_trip_and_refusals(tmp_path) -> None:
    assert read_settings(tmp_path) == read_settings(tmp_path / "nowhere")
    assert read_settings(tmp_path).threshold == 0.5
    saved = update_settings(tmp_path, name="  seed 3 ", note="compare with Fig. 3", threshold=0.42,
                            threshold_rule="balanced_accuracy")
    assert saved.name == "seed 3" and read_settings(tmp_path) == saved
    before = (tmp_path / SETTINGS).read_text()
    with pytest.raises(RunError, match="between 0 and 1"):
        update_settings(tmp_path, threshold=1.5)
    with pytest.raises(RunError, match="at most"):
        update_settings(tmp_path, name="x" * 200)
    assert (tmp_path / SETTINGS).read_text() == before  # a refused change writes nothing
    (tmp_path / SETTINGS).write_text("{not json")
    with pytest.raises(RunError, match="unreadable"):
        read_settings(tmp_path)


def test_a_threshold_saved_without_a_rule_is_used_as_set_by_hand(tmp_path) -> None:
    metrics = _metrics()
    assert operating_point.saved_threshold(read_settings(tmp_path), metrics) == operating_point.run_default(metrics)
    saved = update_settings(tmp_path, threshold=0.37)
    assert saved.threshold_rule == "custom" and operating_point.saved_threshold(saved, metrics) == 0.37
    chosen = update_settings(tmp_path, threshold=0.6, threshold_rule="balanced_accuracy")
    assert operating_point.saved_threshold(chosen, metrics) == 0.6
    named = update_settings(tmp_path, name="renamed")  # other settings leave the operating point alone
    assert named.threshold == 0.6 and named.threshold_rule == "balanced_accuracy"
