"""The demo's third class: which topological materials are semimetals rather than insulators.

The binary demo is drawn first and left exactly as it was (the same random stream, the same
numbers). Then every topological material is a topological semimetal with probability
``g(x)``, drawn from a stream of its own, where ``g`` depends only on what was drawn for it:

    g = 0                                          space group 1 or 2 (triclinic)
    logit g = c - semimetal_bonding * (bonding - mean topological bonding)     otherwise

So, exactly: P(trivial | x) = 1 - p_topological, P(topological insulator | x) = p_topological
(1 - g), P(topological semimetal | x) = p_topological g.

**What is calibrated on the catalogue, and what is assumed.** The shared files hold no
semimetal counts except the Materiae sample (``../shared/fixtures/labels/materiae_sample.csv``,
300 materials, all in space group 2): its 17 topological materials with spin-orbit coupling are
11 TI and 6 TCI, no HSP_SM or HSL_SM. That agrees with symmetry: a triclinic crystal has no
high-symmetry lines and only two-fold (Kramers) degeneracies at its inversion-symmetric
points, so no crossing is enforced there; triclinic topological materials are insulators here.
The share of semimetals among all topological materials is not in the shared files, so it is
a stated assumption, ``DemoModel.semimetal_share`` (one half), which ``c`` meets exactly for
the model's topological materials. The dependence on ``bonding`` (semimetals more metallic: a
weaker white line still) is the demo's choice too, so that the spectra carry the distinction
(``semimetal_bonding`` per standard deviation of the latent).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit

from xanes_core.data.demo.composition import space_group_probabilities
from xanes_core.data.demo.config import DemoModel

TRICLINIC = (1, 2)  # space groups without enforced band crossings (see module doc)
SUBCLASS_STREAM = 3  # the subclass draws' stream: numpy.random.default_rng([seed, SUBCLASS_STREAM])
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)  # expectations over N(0, 1)


def semimetal_offset(model: DemoModel) -> float:
    """``c`` such that semimetals are ``semimetal_share`` of all topological materials."""
    triclinic = float(space_group_probabilities(model.composition_strength)[1][[g - 1 for g in TRICLINIC]].sum())
    target = model.semimetal_share / (1.0 - triclinic)
    if not 0.0 < target < 1.0:
        raise ValueError(f"A semimetal share of {model.semimetal_share} cannot be met outside triclinic groups.")

    def share(offset: float) -> float:
        return float(_WEIGHTS @ expit(offset - model.semimetal_bonding * _NODES) / _WEIGHTS.sum())

    return float(brentq(lambda offset: share(offset) - target, logit(target) - 20, logit(target) + 20))


def semimetal_probability(space_groups: np.ndarray, bonding: np.ndarray, model: DemoModel) -> np.ndarray:
    """g(x) of every material: P(semimetal | topological, drawn features) (module doc)."""
    centred = bonding + model.bonding_separation / 2  # topological bonding has mean -separation / 2
    g = expit(semimetal_offset(model) - model.semimetal_bonding * centred)
    return np.where(np.isin(space_groups, TRICLINIC), 0.0, g)


def draw_subclasses(labels: np.ndarray, g: np.ndarray, seed: int) -> np.ndarray:
    """Three-class labels: 0 trivial, 1 topological insulator, 2 topological semimetal."""
    draws = np.random.default_rng([seed, SUBCLASS_STREAM]).random(labels.size)
    return np.where(labels == 1, np.where(draws < g, 2, 1), 0).astype(np.int8)
