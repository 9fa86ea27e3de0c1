"""The scientific bar on demo data: the symmetry CNN beats both baselines.

8,000 demo samples (half the default), the default recipe for all three models on the same split
(the RBF SVM's fit grows with the square of the training set, ~3.5 min at full size on 2 cores,
too slow for a test). The other bar, within 4 points of the generator's Bayes rule at full size,
is not met today; it is measured and reported by ``bench/bench_science.py`` (BENCHMARKS.md)
rather than kept here as an expected failure, which could never fail.

The demo is built with seed SCIENCE_SEED, which nothing else uses: the CNN's defaults were
chosen on the validation split of the default demo (seed 0; BENCHMARKS.md, "How the defaults
were chosen"), and seeds 1-5 build the small demos of the plumbing tests. So the test split
scored here played no part in any choice.
"""

from __future__ import annotations

from tests.helpers import run_command
from xanes_core.data.demo import generate_demo

SCIENCE_SEED = 7


def _saved_demo(tmp_path_factory, n_samples: int):
    path = tmp_path_factory.mktemp("datasets") / f"demo-{n_samples}-seed{SCIENCE_SEED}"
    generate_demo(n_samples=n_samples, seed=SCIENCE_SEED).save(path)
    return path


def test_symmetry_cnn_beats_both_baselines(tmp_path_factory):
    path = _saved_demo(tmp_path_factory, 8000)
    scores = {model: run_command("train", "--dataset", str(path), "--model", model)["test"]["balanced_accuracy"]
              for model in ("symmetry", "svm", "elements")}
    assert scores["symmetry"] > scores["svm"] > scores["elements"], scores
