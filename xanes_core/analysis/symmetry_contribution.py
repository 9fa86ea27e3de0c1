"""How much a material's space group moves its prediction, beside what each spectrum does.

The symmetry model reads the space group (one-hot crystal system, point group and space group)
beside the spectra. An element's contribution is p(topological) minus p without that spectrum;
the space group cannot simply be removed (an all-zero symmetry input is a state the model never
saw in training), so its contribution is defined against the space group being **unknown**:

    p_unknown = sum over space groups g of  w_g * p(the material's spectra, g)
    w_g       = (share of g among topological training materials
                 + share of g among trivial training materials) / 2
    delta     = p(the material's spectra, its own space group) - p_unknown

``w`` is the training split's space-group distribution with both classes weighted equally, as
the model itself was trained (class-balanced sample weights): a prior that leans to neither
class. Only the training split is used. ``delta > 0``: the material's own space group pushes
the prediction towards topological, compared with not knowing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFINITION = ("Space group: p(topological) with the material's space group minus the mean p over the "
              "training split's space groups (topological and trivial materials weighted equally), i.e. "
              "with the space group unknown.")


@dataclass(frozen=True)
class SpaceGroupPrior:
    """Space groups of the training split and their class-neutral weights (summing to 1)."""

    groups: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class SymmetryContribution:
    """p with the space group unknown (see module doc), and what the material's own group adds."""

    space_group: int
    p_unknown: float
    delta: float


def class_neutral_prior(space_groups: np.ndarray, labels: np.ndarray) -> SpaceGroupPrior | None:
    """The prior of the module doc from training materials; None unless both classes are present."""
    space_groups, labels = np.asarray(space_groups, dtype=np.int64), np.asarray(labels)
    groups = np.unique(space_groups)
    weights = np.zeros(groups.size)
    for label in (0, 1):
        members = space_groups[labels == label]
        if members.size == 0:
            return None
        counts = np.array([(members == g).sum() for g in groups], dtype=float)
        weights += 0.5 * counts / members.size
    return SpaceGroupPrior(groups, weights)


def symmetry_contribution(p_with: float, p_by_group: np.ndarray, prior: SpaceGroupPrior,
                          space_group: int) -> SymmetryContribution:
    """From p with the material's own group and p with each prior group (same spectra)."""
    p_unknown = float(np.dot(prior.weights, np.asarray(p_by_group, dtype=float)))
    return SymmetryContribution(int(space_group), p_unknown, float(p_with) - p_unknown)
