"""The class-dependent latents and the exact posterior ``p_topological`` of every demo sample.

Two sample-level latent properties have class-dependent means and unit variance:
``bonding`` (topological materials: more covalent, weaker white line) and ``bond_length``
(topological: longer first-shell distance, so slower post-edge oscillations). Everything else
the spectra depend on (edge position, pre-edge, phases, noise) is drawn independently of the
class, so it cancels from the likelihood ratio.
"""

from __future__ import annotations

import numpy as np

from xanes_core.data.demo.composition import Cells, element_odds, log_set_probability, space_group_probabilities
from xanes_core.data.demo.config import DemoModel


def draw_latents(labels: np.ndarray, model: DemoModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(bonding, bond_length) per sample, N(-+d/2, 1) and N(+-d/2, 1) for topological / trivial."""
    sign = np.where(labels == 1, 1.0, -1.0)
    bonding = rng.normal(-sign * model.bonding_separation / 2, 1.0)
    bond_length = rng.normal(sign * model.bond_length_separation / 2, 1.0)
    return bonding, bond_length


def posterior_log_odds(cells: Cells, n_elements: np.ndarray, presence: np.ndarray, space_groups: np.ndarray,
                       bonding: np.ndarray, bond_length: np.ndarray, model: DemoModel) -> np.ndarray:
    """log P(top | drawn) - log P(trivial | drawn), exactly as the generator drew."""
    with np.errstate(divide="ignore"):
        joint = {label: np.log(np.array([cells.get((int(n), label), 0) for n in n_elements], dtype=float))
                 for label in (0, 1)}
    odds = element_odds(model.composition_strength)
    sg = space_group_probabilities(model.composition_strength)
    log_odds = joint[1] - joint[0]
    log_odds += log_set_probability(presence, odds[1], n_elements) - log_set_probability(presence, odds[0], n_elements)
    log_odds += np.log(sg[1][space_groups - 1]) - np.log(sg[0][space_groups - 1])
    # N(x; +d/2, 1) vs N(x; -d/2, 1) has log ratio d * x; bonding is lower for topological.
    log_odds += -model.bonding_separation * bonding + model.bond_length_separation * bond_length
    return log_odds


def probability(log_odds: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -60, 60)))


def bayes_balanced_accuracy(p_topological: np.ndarray, labels: np.ndarray) -> float:
    """Balanced accuracy of the Bayes rule for balanced accuracy: p above the prevalence; with
    (n, K) posteriors, the class of largest posterior / frequency (the same rule for K classes)."""
    posterior, labels = np.asarray(p_topological), np.asarray(labels)
    if posterior.ndim == 2:
        predicted = (posterior / np.bincount(labels, minlength=posterior.shape[1]).clip(1)).argmax(axis=1)
        return float(np.mean([(predicted[labels == k] == k).mean() for k in np.unique(labels)]))
    predicted = posterior > labels.mean()
    recall_top = predicted[labels == 1].mean()
    recall_triv = (~predicted[labels == 0]).mean()
    return float((recall_top + recall_triv) / 2)
