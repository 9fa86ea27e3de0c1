"""The demo generator's knobs, in one frozen dataclass saved with every demo dataset."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoModel:
    """Class separations and spectral sizes, chosen so spectra carry signal beyond composition.

    The two latent properties have unit variance and class means ``+-separation / 2``; the
    spectral knobs say how far one standard deviation of a latent moves the spectrum.
    """

    composition_strength: float = 0.5  # 0: classes share element/space-group odds; 1: real counts
    bonding_separation: float = 1.3  # class-mean difference of the `bonding` latent (in sigmas)
    bond_length_separation: float = 1.3
    white_line_per_sigma: float = 0.12  # white-line height change per sigma of `bonding` (edge steps)
    bond_length_per_sigma: float = 0.04  # relative first-shell distance change per sigma
    noise: float = 0.004  # Gaussian noise, in units of the edge step
    semimetal_share: float = 0.5  # semimetals among topological materials (an assumption: see .subclass)
    semimetal_bonding: float = 1.5  # logit change of "semimetal" per sigma of `bonding` (more metallic: lower)
