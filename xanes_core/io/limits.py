"""Every limit on what a visitor can hand the server, in one place.

Sizes are in MB as Streamlit counts them (1 MB = 1024 * 1024 bytes), so the number an upload
widget shows, ``server.maxUploadSize`` in ``.streamlit/config.toml`` (the largest limit here;
Streamlit refuses any bigger request) and the checks in the readers are the same number. The
readers apply their own, smaller limit to the bytes they get, so the CLI and notebooks are
bounded too. Counts (lines, columns, points, members) bound the work a parser does per byte.
"""

from __future__ import annotations

from xanes_core.errors import XanesError

MB = 1024 * 1024

#: One spectrum file, and what it holds once gunzipped.
SPECTRUM_FILE_MB = 20
#: Lines of a text spectrum file: no XANES scan has a fraction of this many rows.
SPECTRUM_LINES = 200_000
#: Values on one line of a column file (multi-element detector files have ~100).
SPECTRUM_COLUMNS = 1_000
#: Points of one spectrum, whatever the format.
SPECTRUM_POINTS = 100_000
#: Spectra in one file (Athena project groups, Materials Project documents in one JSON list).
SPECTRA_PER_FILE = 1_000

#: A CIF (Predict page, ``predict --cif``).
CIF_MB = 5

#: A topology label catalogue; the full TQC and Materiae exports are a few MB.
CATALOGUE_MB = 10
#: Rows of a catalogue: TQC lists ~96,000 ICSD entries, twice (with and without SOC).
CATALOGUE_ROWS = 300_000

#: A manifest of local spectrum files (build-dataset, predict-batch): text, not spectra.
MANIFEST_MB = 50
MANIFEST_ROWS = 500_000

#: Fields on one line of a catalogue or manifest (they have 2 to 7): pandas renames repeated
#: header names in quadratic time and takes minutes over one row of a million fields.
TABLE_FIELDS = 100

#: A zip of spectrum files plus a manifest, as uploaded (compressed).
ZIP_MB = 100
#: Everything in one zip once expanded, counted while reading (header sizes are not trusted).
ZIP_EXPANDED_MB = 250
#: One member of a zip (a spectrum file or the manifest).
ZIP_MEMBER_MB = SPECTRUM_FILE_MB
#: Files in one zip: 10,000 spectra and a manifest, with room.
ZIP_MEMBERS = 12_000

#: What ``server.maxUploadSize`` must be: the largest upload any page accepts.
LARGEST_UPLOAD_MB = max(SPECTRUM_FILE_MB, CIF_MB, CATALOGUE_MB, ZIP_MB)


def check_size(size: int, limit_bytes: int, what: str, name: str,
               error: type[XanesError] = XanesError) -> None:
    """Refuse ``size`` bytes over the limit with one line naming the file and the limit."""
    if size > limit_bytes:
        raise error(f"{name}: {in_mb(size)} MB is over the {in_mb(limit_bytes)} MB limit for {what}.")


def check_count(count: int, limit: int, what: str, name: str,
                error: type[XanesError] = XanesError) -> None:
    """Refuse more than ``limit`` lines, columns, members, ... with one line naming the limit."""
    if count > limit:
        raise error(f"{name}: {count:,} {what} is over the limit of {limit:,}.")


def in_mb(size: int) -> str:
    """Bytes as Streamlit's MB, whole when they are whole ("20"), else to 0.1 ("20.3")."""
    return f"{size // MB}" if size % MB == 0 else f"{size / MB:.1f}"
