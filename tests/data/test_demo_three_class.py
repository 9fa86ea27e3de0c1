"""The demo's third class: the binary demo untouched, exact posteriors per class, the
catalogue's evidence on triclinic semimetals."""

from __future__ import annotations

import numpy as np
import pytest

from xanes_core.data.classes import FINE_CLASSES, task_labels
from xanes_core.data.demo import DemoModel, bayes_balanced_accuracy, generate_demo, task_posterior
from xanes_core.data.demo.subclass import TRICLINIC
from xanes_core.learn.calibration import expected_calibration_error
from xanes_core.sources.labels import read_labels

BINARY_COLUMNS = ["sample_id", "formula", "n_elements", "space_group", "crystal_system", "point_group", "label",
                  "p_topological", "split"]


def test_the_third_class_changes_nothing_of_the_binary_demo():
    default = generate_demo(n_samples=800, seed=3)
    other = generate_demo(n_samples=800, seed=3, model=DemoModel(semimetal_share=0.3, semimetal_bonding=0.5))
    np.testing.assert_array_equal(default.spectra, other.spectra)
    assert default.metadata[BINARY_COLUMNS].equals(other.metadata[BINARY_COLUMNS])
    assert not default.metadata["fine_class"].equals(other.metadata["fine_class"])


def test_fine_classes_refine_the_binary_label(demo_full):
    meta = demo_full.metadata
    three = task_labels(meta, "three-class")
    np.testing.assert_array_equal(three > 0, meta["label"].to_numpy() == 1)
    topological = meta["label"] == 1
    share = (three[topological] == 2).mean()
    n = int(topological.sum())
    assert abs(share - DemoModel().semimetal_share) < 3 * np.sqrt(0.25 / n)  # within three binomial sigmas
    triclinic = meta["space_group"].isin(TRICLINIC).to_numpy()
    assert (three[triclinic & topological.to_numpy()] == 1).all()
    assert (meta["p_topological_semimetal"][triclinic] == 0).all()


def test_the_posterior_of_each_class_is_exact(demo_full):
    meta = demo_full.metadata
    posterior = task_posterior(meta, "three-class")
    labels = task_labels(meta, "three-class")
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(posterior[:, 1:].sum(axis=1), meta["p_topological"], atol=1e-12)
    # the true posteriors are calibrated: their ECE is the noise of 16,458 draws, not a bias
    assert expected_calibration_error(labels, posterior) < 0.01
    shuffled = posterior[np.random.default_rng(0).permutation(len(posterior))]
    assert expected_calibration_error(labels, shuffled) > 0.1


def test_the_bayes_rule_for_three_classes_sets_the_reference(demo_full):
    meta = demo_full.metadata
    test = demo_full.split_indices("test")
    three = bayes_balanced_accuracy(task_posterior(meta, "three-class")[test], task_labels(meta, "three-class")[test])
    binary = bayes_balanced_accuracy(meta["p_topological"].to_numpy()[test], meta["label"].to_numpy()[test])
    assert 0.68 < three < 0.76 and three < binary  # telling the two topological kinds apart is harder
    chance = bayes_balanced_accuracy(np.full((test.size, 3), 1 / 3), task_labels(meta, "three-class")[test])
    assert chance == pytest.approx(1 / 3, abs=0.02)


def test_the_catalogue_sample_has_no_triclinic_semimetal(fixtures_dir):
    """The one fine-class evidence in the shared files (module doc of demo.subclass)."""
    table = read_labels(fixtures_dir / "labels" / "materiae_sample.csv")
    triclinic = table[table["space_group"].isin(TRICLINIC)]
    kinds = triclinic["fine_class"].map(FINE_CLASSES)
    assert (kinds == 1).sum() == 17 and (kinds == 2).sum() == 0
