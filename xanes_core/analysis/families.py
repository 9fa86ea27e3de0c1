"""A run's predictions for composition families (:mod:`xanes_core.data.families`).

Two sources, kept apart because only one is honest about generalization:

- :func:`saved_test_predictions`: the p(topological) the run saved for its **test** materials when it
  was evaluated (``metrics.json``), thresholded at its saved operating point. No model is
  loaded; materials of the other splits get none. The families table counts these.
- :func:`member_probabilities`: the run's model applied to any materials (a family's members),
  training ones included: those it has seen, so their probabilities say what it learnt, not
  how well it generalizes; pages show each member's split beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xanes_core.data.classes import BINARY
from xanes_core.data.dataset import XanesDataset
from xanes_core.errors import RunError
from xanes_core.learn.features import pack
from xanes_core.learn.operating_point import saved_threshold

if TYPE_CHECKING:
    from xanes_core.learn.results import RunResults
    from xanes_core.learn.runs import LoadedRun

NOT_SCORED = -2  # a material the run has no saved test score for
THREE_CLASS_REFUSED = ("Run {run} was trained for three classes; families show p(topological) at a threshold, which "
                       "it does not give (its per-class scores are on the Results page).")


def saved_test_predictions(results: "RunResults", dataset: XanesDataset) -> tuple[np.ndarray, np.ndarray]:
    """(p(topological), predicted label) for every dataset material from the run's saved test
    scores at its operating point; NaN and :data:`NOT_SCORED` outside the test split."""
    if not results.is_binary:
        raise RunError(THREE_CLASS_REFUSED.format(run=results.run_id))
    scores = results.metrics.get("scores", {}).get("test")
    ids = results.metrics.get("sample_ids", [])
    if not scores or len(ids) != len(scores.get("probability", ())):
        raise RunError(f"Run {results.run_id} was evaluated before per-material scores were kept: "
                       f"`python -m xanes_core evaluate` on it adds them.")
    position = {sample_id: i for i, sample_id in enumerate(dataset.metadata["sample_id"].astype(str))}
    p = np.full(dataset.n_samples, np.nan)
    found = [(position[s], q) for s, q in zip(ids, scores["probability"]) if s in position]
    if found:
        rows, values = map(np.asarray, zip(*found))
        p[rows] = values
    predicted = np.where(np.isnan(p), NOT_SCORED, (p >= saved_threshold(results.settings, results.metrics)).astype(int))
    return p, predicted


def member_probabilities(run: "LoadedRun", dataset: XanesDataset, members: np.ndarray) -> np.ndarray:
    """p(topological) of ``members`` by the run's model (any split; the run's own dataset version only)."""
    from xanes_core.learn.runs import check_run_dataset

    if run.task != BINARY:
        raise RunError(THREE_CLASS_REFUSED.format(run=run.run_dir.name))
    check_run_dataset(run, dataset)
    members = np.asarray(members, dtype=np.int64)
    if members.size == 0:
        return np.zeros(0)
    return run.classifier.predict_proba(pack(dataset, members))[:, 1]
