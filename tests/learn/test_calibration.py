"""Calibration scores and the temperature map, on probabilities whose true frequencies are known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.metrics import brier_score_loss, roc_auc_score

from xanes_core.learn.calibration import (
    TemperatureScaling,
    brier_score,
    expected_calibration_error,
    reliability,
)


def test_ece_by_hand():
    # bin [0.2, 0.267): p = 0.25 twice, one hit -> gap 0.25; bin [0.8, 0.867): p = 0.8 twice, two hits -> 0.2
    labels = np.array([1, 0, 1, 1])
    p = np.array([0.25, 0.25, 0.8, 0.8])
    assert expected_calibration_error(labels, p) == pytest.approx((2 * 0.25 + 2 * 0.2) / 4)
    bins = reliability(labels, p)[1]["bins"]
    assert [(b["n"], b["hits"]) for b in bins] == [(2, 1), (2, 2)]
    assert sum(b["n"] for b in reliability(labels, p)[0]["bins"]) == 4


def test_brier_matches_scikit_learn_for_two_and_three_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    p = rng.random(300)
    assert brier_score(labels, p) == pytest.approx(brier_score_loss(labels, p))
    three = softmax(rng.normal(size=(300, 3)), axis=1)
    labels3 = rng.integers(0, 3, 300)
    assert brier_score(labels3, three) == pytest.approx(brier_score_loss(labels3, three))


def _distorted_members(rng, n, shift=-1.5, sharpness=2.0, members=5):
    """Outcomes drawn from a known logistic model, and 'members' that see its logit sharpened,
    shifted (as class-balancing weights shift it) and with member noise."""
    logit = rng.normal(-1.4, 1.6, n)
    labels = (rng.random(n) < expit(logit)).astype(int)
    member_logits = sharpness * logit[None, :] - shift + rng.normal(0, 0.3, (members, n))
    p = expit(member_logits)
    return labels, np.stack([1 - p, p], axis=-1), expit(logit)


def test_temperature_with_bias_undoes_a_prior_shift_fitted_on_validation_only():
    rng = np.random.default_rng(1)
    val_labels, val_members, _ = _distorted_members(rng, 2000)
    test_labels, test_members, truth = _distorted_members(rng, 4000)
    scaling = TemperatureScaling.fit(val_members, val_labels)
    raw = test_members.mean(axis=0)[:, 1]
    calibrated = scaling.apply(test_members).mean(axis=0)[:, 1]
    before = expected_calibration_error(test_labels, raw)
    after = expected_calibration_error(test_labels, calibrated)
    floor = expected_calibration_error(test_labels, truth)  # the true probabilities' own ECE on 4,000
    assert before > 0.1 and after < 0.03 and after < before and after < floor + 0.02
    assert scaling.temperature == pytest.approx(2.0, rel=0.15) and scaling.bias[1] < -0.3
    assert roc_auc_score(test_labels, calibrated) == pytest.approx(roc_auc_score(test_labels, raw), abs=0.005)
    # monotone per member: the members' order of materials is unchanged
    member = test_members[0, :, 1]
    assert (np.diff(scaling.apply(test_members)[0, np.argsort(member), 1]) >= -1e-12).all()


def test_pure_temperature_cannot_undo_the_shift_the_bias_is_needed():
    rng = np.random.default_rng(2)
    labels, members, _ = _distorted_members(rng, 3000, sharpness=1.0, members=1)
    fitted = TemperatureScaling.fit(members, labels)
    temperature_only = TemperatureScaling(temperature=fitted.temperature, bias=(0.0, 0.0))
    ece = {name: expected_calibration_error(labels, scaling.apply(members).mean(axis=0)[:, 1])
           for name, scaling in (("with bias", fitted), ("temperature only", temperature_only))}
    assert ece["with bias"] < 0.03 < ece["temperature only"]


def test_three_classes_get_one_temperature_and_a_bias_per_class():
    rng = np.random.default_rng(3)
    n = 6000
    true_logits = rng.normal(0, 1.5, (n, 3)) + np.array([1.5, 0.0, -0.5])
    labels = np.array([rng.choice(3, p=row) for row in softmax(true_logits, axis=1)])
    members = softmax(0.5 * true_logits[None] + np.array([-1.0, 0.5, 0.5]) + rng.normal(0, 0.2, (3, n, 3)), axis=-1)
    scaling = TemperatureScaling.fit(members[:, :3000], labels[:3000])
    before = expected_calibration_error(labels[3000:], members[:, 3000:].mean(axis=0))
    after = expected_calibration_error(labels[3000:], scaling.apply(members[:, 3000:]).mean(axis=0))
    assert len(scaling.bias) == 3 and scaling.bias[0] == 0.0
    assert after < 0.03 < before
    np.testing.assert_allclose(scaling.apply(members).sum(axis=-1), 1.0)


def test_the_map_round_trips_through_json():
    scaling = TemperatureScaling(temperature=1.7, bias=(0.0, -1.2))
    assert TemperatureScaling.from_dict(scaling.to_dict()) == scaling
