"""Every classifier follows scikit-learn's conventions and round-trips through its saved files."""

from __future__ import annotations

import random
import subprocess
import sys
import threading

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.svm import SVC

from xanes_core.errors import RunError, XanesError
from xanes_core.learn.baselines import ElementsClassifier, SVMClassifier
from xanes_core.learn.features import (
    fit_standardizer,
    flattened_spectra,
    pack,
    standardize,
)

TINY = dict(filters=(4, 8, 4), dense_units=(16, 8), symmetry_units=8, head_units=8, epochs=1, augment=False)


@pytest.fixture(scope="module")
def xy(demo_small):
    return pack(demo_small), demo_small.labels.astype(int)


def _cnn(**changes):
    from xanes_core.learn.classifiers import CNNClassifier

    return CNNClassifier(**{**TINY, **changes})


@pytest.mark.parametrize("make", [_cnn, SVMClassifier, ElementsClassifier], ids=["cnn", "svm", "elements"])
def test_estimator_conventions(make, xy):
    X, y = xy
    estimator = make()
    params = estimator.get_params()
    assert params and clone(estimator).get_params() == params
    key = next(iter(params))
    assert estimator.set_params(**{key: params[key]}) is estimator
    fitted = estimator.fit(X[:400], y[:400])
    assert fitted is estimator and list(estimator.classes_) == [0, 1]
    proba = estimator.predict_proba(X[400:])
    assert proba.shape == (len(X) - 400, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(estimator.predict(X[400:]), (proba[:, 1] >= 0.5).astype(int))
    assert 0.0 <= estimator.score(X[400:], y[400:]) <= 1.0


def test_cnn_runs_through_cross_val_score(xy):
    X, y = xy
    scores = cross_val_score(_cnn(), X, y, cv=StratifiedKFold(2, shuffle=True, random_state=0),
                             scoring="balanced_accuracy")
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_baselines_run_through_cross_val_score(xy):
    X, y = xy
    scores = cross_val_score(ElementsClassifier(C=0.5), X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,) and (scores > 0.5).all()  # composition alone carries some signal


def test_svm_decision_matches_sklearn_and_round_trips(xy, tmp_path):
    X, y = xy
    train, test = np.arange(400), np.arange(400, len(X))
    svm = SVMClassifier().fit(X[train], y[train], sample_weight=np.ones(train.size))
    standardizer = fit_standardizer(X[train])
    reference = SVC(kernel="rbf", gamma="scale").fit(flattened_spectra(standardize(X[train], standardizer)), y[train])
    np.testing.assert_allclose(svm.decision_function(X[test]),
                               reference.decision_function(flattened_spectra(standardize(X[test], standardizer))),
                               atol=1e-6)
    svm.save(tmp_path)
    np.testing.assert_allclose(SVMClassifier().restore(tmp_path).predict_proba(X[test]), svm.predict_proba(X[test]))
    with np.load(tmp_path / "baseline.npz", allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)
    with pytest.raises(RunError, match="does not hold"):
        ElementsClassifier().restore(tmp_path)


def test_cnn_round_trips_in_safe_mode(xy, tmp_path):
    X, y = xy
    cnn = _cnn(model_type="core").fit(X[:400], y[:400])
    cnn.save(tmp_path)
    restored = _cnn(model_type="core").restore(tmp_path)
    np.testing.assert_allclose(restored.predict_proba(X[400:]), cnn.predict_proba(X[400:]), atol=1e-6)
    p, embedding = restored.predict_with_embedding(X[400:])
    np.testing.assert_allclose(p, cnn.predict_proba(X[400:])[:, 1], atol=1e-6)
    assert embedding.shape[0] == len(X) - 400


def _seed_global_generators(seed: int) -> None:
    import tensorflow as tf

    np.random.seed(seed)
    random.seed(seed)
    tf.random.set_seed(seed)


def _global_draws() -> tuple:
    """What code relying on the global generators (numpy, Python, TensorFlow) draws next."""
    import tensorflow as tf

    return np.random.random(3).tolist(), [random.random() for _ in range(3)], tf.random.uniform([3]).numpy().tolist()


def test_training_in_a_thread_leaves_the_global_random_state_alone(xy):
    X, y = xy
    _seed_global_generators(123)
    expected = _global_draws()
    _seed_global_generators(123)
    worker = threading.Thread(target=lambda: _cnn(seed=5, dropout=0.5).fit(X[:300], y[:300]))
    worker.start()
    worker.join()
    assert _global_draws() == expected


def test_a_seed_reproduces_the_model_and_another_seed_does_not(xy):
    X, y = xy
    first, second, other = (_cnn(seed=seed, dropout=0.5, augment=True).fit(X[:300], y[:300]) for seed in (4, 4, 5))
    for a, b in zip(first.model_.get_weights(), second.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first.predict_proba(X[300:]), second.predict_proba(X[300:]), atol=1e-6)
    assert np.abs(first.predict_proba(X[300:]) - other.predict_proba(X[300:])).max() > 1e-3


def test_labels_and_inputs_are_checked(xy):
    X, y = xy
    with pytest.raises(XanesError, match="both"):
        ElementsClassifier().fit(X[:50], np.zeros(50, dtype=int))
    with pytest.raises(XanesError, match="packed"):
        _cnn().fit(X[:, :100], y)


def test_baselines_and_result_tables_import_no_tensorflow():
    """The layers that must stay light: everything outside learn/, and learn's TF-free modules."""
    code = (
        "import sys, pkgutil, importlib, xanes_core\n"
        "light = ['xanes_core.learn.baselines', 'xanes_core.learn.results', 'xanes_core.learn.evaluation',\n"
        "         'xanes_core.learn.runs', 'xanes_core.learn.config', 'xanes_core.learn.features']\n"
        "for m in pkgutil.walk_packages(xanes_core.__path__, 'xanes_core.'):\n"
        "    if '.learn.' not in m.name and not m.name.endswith('__main__'):\n"
        "        light.append(m.name)\n"
        "for name in light:\n"
        "    importlib.import_module(name)\n"
        "loaded = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "print(len(light), loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    count, loaded = done.stdout.split(" ", 1)
    assert int(count) > 25 and loaded.strip() == "[]", done.stdout
