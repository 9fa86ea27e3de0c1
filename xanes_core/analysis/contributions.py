"""Each element's part in one prediction, split into the effect of its spectrum and the effect of
its presence (both in p(topological); positive pushes towards topological).

For a material with probability ``p`` and an element ``E`` of it:

- ``p_neutral``: ``E``'s spectrum replaced by ``E``'s **class-neutral** mean training spectrum
  (:mod:`xanes_core.data.class_means`), ``E`` still present;
- ``spectrum_effect = p - p_neutral``: what this particular spectrum of ``E`` says, beyond what
  an average ``E`` spectrum says;
- ``p_without``: ``E`` removed altogether (spectrum and presence; the material is then scored
  as a material without ``E``);
- ``presence_effect = p_neutral - p_without``: what having ``E`` at all (with an average
  spectrum) says: composition, not spectroscopy;
- ``delta = p - p_without = spectrum_effect + presence_effect``: the leave-one-out number the
  tool reported alone before; kept under its name for scripts.

With one element, removing it leaves no input: ``p_without``, ``delta`` and ``presence_effect``
are None and only the spectrum effect is given. Without the run's class means (its dataset is
gone and it has no ``class_means.npz``) the spectrum and presence effects are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from xanes_core.data.elements import channel_index
from xanes_core.learn.features import pack_rows

DEFINITIONS = ("Spectrum effect: p(topological) minus p(topological) with this element's spectrum replaced by its "
               "class-neutral mean training spectrum (the average of the topological and the trivial mean), "
               "the element kept present. Presence effect: that p minus p(topological) with the element removed "
               "altogether. Their sum is the leave-one-out Δp. Positive pushes towards topological.")
ONE_ELEMENT_NOTE = ("With one element, removing it leaves no input: only the spectrum effect is given "
                    "(presence effect and leave-one-out need a second element).")
NO_NEUTRAL_NOTE = ("Spectrum and presence effects need the run's class-neutral training spectra, which are "
                   "unavailable ({reason}); the leave-one-out delta mixes both effects.")


@dataclass(frozen=True)
class Contribution:
    """One element's part in a prediction (see module doc for each number)."""

    p_without: float | None
    delta: float | None
    p_neutral: float | None = None
    spectrum_effect: float | None = None
    presence_effect: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {"p_without": self.p_without, "delta": self.delta, "p_neutral": self.p_neutral,
                "spectrum_effect": self.spectrum_effect, "presence_effect": self.presence_effect}


def variants(spectra: np.ndarray, elements: Sequence[str], space_group: int | None,
             neutral: np.ndarray | None) -> np.ndarray:
    """Packed ``X`` of [the material, without element 1, ..., without element n (n > 1 only),
    element 1's spectrum class-neutral, ..., element n's (with ``neutral`` only)]."""
    channels = np.array([channel_index(e) for e in elements], dtype=np.int64)
    n = len(elements)
    rows = [np.arange(n)] + ([np.delete(np.arange(n), k) for k in range(n)] if n > 1 else [])
    blocks = [spectra[r] for r in rows]
    if neutral is not None:
        for k in range(n):
            swapped = spectra.copy()
            swapped[k] = neutral[channels[k]]
            blocks.append(swapped)
            rows.append(np.arange(n))
    row_sample = np.repeat(np.arange(len(rows)), [r.size for r in rows])
    groups = None if space_group is None else np.full(len(rows), space_group)
    return pack_rows(np.concatenate(blocks), channels[np.concatenate(rows)], row_sample, len(rows), groups)


def contributions(elements: Sequence[str], probabilities: np.ndarray,
                  has_neutral: bool) -> dict[str, Contribution]:
    """Contributions from the probabilities of :func:`variants` (same order)."""
    p, n = float(probabilities[0]), len(elements)
    without = probabilities[1:1 + n] if n > 1 else [None] * n
    neutral = probabilities[1 + (n if n > 1 else 0):] if has_neutral else [None] * n
    out = {}
    for element, q, r in zip(elements, without, neutral):
        q = None if q is None else float(q)
        r = None if r is None else float(r)
        out[element] = Contribution(
            p_without=q, delta=None if q is None else p - q, p_neutral=r,
            spectrum_effect=None if r is None else p - r,
            presence_effect=None if r is None or q is None else r - q)
    return out
