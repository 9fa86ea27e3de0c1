"""``python -m xanes_core read FILE [--json]``: what the readers make of one file.

The main CLI calls :func:`run_read`; a XanesError propagates so that it prints one line on
stderr and exits with code 2, like every other command.
"""

from __future__ import annotations

import json

from xanes_core.io.reader import read_spectrum
from xanes_core.io.spectrum import Spectrum


def summarize(spectrum: Spectrum) -> dict:
    """The JSON-ready summary of a spectrum (no arrays)."""
    return {
        "name": spectrum.name,
        "format": spectrum.source_format,
        "element": spectrum.element,
        "edge": spectrum.edge,
        "is_computed": spectrum.is_computed,
        "n_points": int(spectrum.energy.size),
        "energy_min": float(spectrum.energy[0]),
        "energy_max": float(spectrum.energy[-1]),
        "e0_estimate": spectrum.metadata.get("e0_estimate"),
        "warnings": list(spectrum.warnings),
    }


def run_read(path: str) -> int:
    """Print the summary of FILE as one JSON object (other tools parse it)."""
    print(json.dumps(summarize(read_spectrum(path))))
    return 0
