"""Time-left estimate: a range before the first epoch ends, the measured truth after it, never
fooled by the tracing batch. Times are simulated, so the tests check the arithmetic, not speed."""

from __future__ import annotations

import pytest

from xanes_core.learn.eta import EtaEstimator, pool_time_left

TRACING, BATCH, VALIDATION, SCORING, BATCHES, EPOCHS = 12.0, 0.1, 1.0, 1.0, 50, 3
EPOCH_START = 2.0  # Keras starting an epoch's data pipeline: in its first batch, from the second epoch on
OVERHEAD = VALIDATION + SCORING  # validation pass, then the epoch-end scoring pass over the same data


def _run(estimator: EtaEstimator, until_epoch: int, until_batch: int) -> tuple[float, float]:
    """Feed a simulated run up to (epoch, batch); returns (now, time the whole run ends). The
    first validation pass also traces the test function (4 s more, once); every later epoch's
    first batch waits EPOCH_START for its data pipeline."""
    now, stop = 0.0, None
    for epoch in range(1, EPOCHS + 1):
        if stop is None:
            estimator.epoch_started(now, epoch, BATCHES)
        for batch in range(1, BATCHES + 1):
            now += TRACING if (epoch, batch) == (1, 1) else BATCH + (EPOCH_START if batch == 1 else 0.0)
            if stop is None:
                estimator.batch_done(now, batch)
                if (epoch, batch) == (until_epoch, until_batch):
                    stop = now
        if stop is None:
            estimator.validation_started(now)
        now += VALIDATION + (4.0 if epoch == 1 else 0.0)
        if stop is None:
            estimator.validation_done(now)
        now += SCORING
        if stop is None:
            estimator.epoch_done(now)
    return stop, now


def test_before_the_first_epoch_ends_a_range_holds_the_truth_and_ignores_tracing() -> None:
    estimator = EtaEstimator(EPOCHS, validation_batches=30)
    assert estimator.estimate() is None  # nothing measured after the tracing batch alone
    now, end = _run(estimator, 1, 5)
    estimate = estimator.estimate()
    assert estimate.seconds is None
    assert estimate.low <= end - now <= estimate.high
    assert estimate.high < 10 * (end - now)  # the 12 s tracing batch does not make it hours


def test_after_the_first_epoch_the_estimate_is_the_measured_time_without_the_one_off_tracing() -> None:
    """Also not fooled by the slow first batch of epoch 2: an epoch start counts once per epoch,
    not as a batch time (which would inflate the next 200 batches' estimates)."""
    estimator = EtaEstimator(EPOCHS, validation_batches=30)
    now, end = _run(estimator, 2, 3)
    estimate = estimator.estimate()
    assert estimate.seconds == pytest.approx(end - now, rel=0.03)
    assert estimate.low == estimate.high == estimate.seconds


def test_last_batch_of_the_run_leaves_only_the_epoch_end() -> None:
    estimator = EtaEstimator(EPOCHS)
    now, end = _run(estimator, EPOCHS, BATCHES)
    assert estimator.estimate().seconds == pytest.approx(OVERHEAD, rel=0.1)
    assert end - now == pytest.approx(OVERHEAD)


def test_an_ensembles_time_left_fills_the_side_by_side_places_as_they_come_free() -> None:
    # CNNs 1 and 2 end in 10 and 20 s; 3, 4 and 5 (30 s each) start as a place comes free
    assert pool_time_left([10.0, 20.0], 3, 30.0, places=2) == pytest.approx(70.0)
    assert pool_time_left([10.0], 2, 30.0, places=1) == pytest.approx(70.0)  # one after another
    assert pool_time_left([10.0], 0, 30.0, places=2) == pytest.approx(10.0)  # the last one running
    assert pool_time_left([5.0], 1, 30.0, places=2) == pytest.approx(30.0)  # a free place starts at once
