"""The scientific bar on demo data: the symmetry CNN beats both baselines and lands within
4 points of the balanced accuracy of the generator's own p_topological (the Bayes rule).

- Baselines: 8,000 demo samples (half the default), the default recipe for all three models on
  the same split (the RBF SVM's fit grows with the square of the training set, ~3.5 min at
  full size on 2 cores, too slow for a test).
- Distance to the Bayes rule: the default demo data (16,458 samples) and the default training
  configuration, exactly what the CLI runs (~1 min on 2 cores); it lands 2.4 points short. On
  reduced data the gap grows (the dense layers over 81 element slots are data-hungry for rare
  elements), so this check needs the full size.
"""

from __future__ import annotations

from tests.helpers import run_command
from xanes_core.data.demo import generate_demo


def _saved_demo(tmp_path_factory, n_samples: int):
    path = tmp_path_factory.mktemp("datasets") / f"demo-{n_samples}"
    generate_demo(n_samples=n_samples, seed=0).save(path)
    return path


def test_symmetry_cnn_beats_both_baselines(tmp_path_factory):
    path = _saved_demo(tmp_path_factory, 8000)
    scores = {model: run_command("train", "--dataset", str(path), "--model", model)["test"]["balanced_accuracy"]
              for model in ("symmetry", "svm", "elements")}
    assert scores["symmetry"] > scores["svm"] > scores["elements"], scores


def test_symmetry_cnn_within_4_points_of_the_bayes_rule(demo_full, tmp_path_factory):
    path = tmp_path_factory.mktemp("datasets") / "demo-full"
    demo_full.save(path)
    result = run_command("train", "--dataset", str(path))
    gap = result["reference_balanced_accuracy"] - result["test"]["balanced_accuracy"]
    assert gap < 0.04, result
