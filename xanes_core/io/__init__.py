"""Layer 2, io: spectrum file readers: XDI, Athena .prj, column text, FEFF xmu.dat, Materials Project JSON/TSV.

``read_spectrum(path_or_bytes)`` returns a :class:`Spectrum` (eV, increasing, element and edge
from the file or inferred with a warning); ``normalize_for_model`` prepares it for the K-edge
model. Every failure a user can cause is a :class:`~xanes_core.errors.SpectrumError`.
"""

from xanes_core.io.normalize import NormalizedSpectrum, normalize_for_model
from xanes_core.io.reader import DEFAULT_MAX_BYTES, read_spectra, read_spectrum
from xanes_core.io.spectrum import Spectrum

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NormalizedSpectrum",
    "Spectrum",
    "normalize_for_model",
    "read_spectra",
    "read_spectrum",
]
