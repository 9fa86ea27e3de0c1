"""What a person hands the Predictor from uploaded files, with the choices the files leave open.

The readers never guess: a file whose element cannot be told, whose columns are ambiguous, or
an Athena project with several groups needs a choice from the person who knows the sample.
:func:`read_upload` turns one file plus the choices made so far into an :class:`UploadResult`
that is either usable or says exactly what is still to be chosen, so the Predict page (or a
notebook) can ask and read again. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xanes_core.errors import ColumnChoiceNeeded, ElementNeeded, XanesError
from xanes_core.io import (
    DEFAULT_MAX_BYTES,
    Spectrum,
    normalize_for_model,
    read_spectrum,
)
from xanes_core.io.athena import parse_athena, parse_athena_json
from xanes_core.io.columns import parse_columns
from xanes_core.io.detect import sniff_format
from xanes_core.io.source import decode_text, load_bytes
from xanes_core.io.xdi import parse_xdi

EDGES = ("K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5")
# Any two columns by number: parsers accept this pair and report every column's label.
_ANY_COLUMNS = ("1", "2")


@dataclass(frozen=True)
class Choices:
    """What the person chose for one file (None: leave it to the file)."""

    element: str | None = None
    edge: str | None = None
    columns: tuple[str, str] | None = None
    group: str | None = None


@dataclass(frozen=True, eq=False)
class UploadResult:
    """One file read with the choices so far: a usable spectrum, or what still has to be asked.

    ``error`` is the one-line reason the file cannot be used yet. ``ask_element`` / ``ask_edge``
    say the file does not tell them; ``column_labels`` is non-empty when energy and mu columns
    must be chosen; ``groups`` lists an Athena project's spectra as (group id, label) pairs when
    it holds several (labels repeat in real projects; ids do not).
    """

    name: str
    spectrum: Spectrum | None = None
    error: str | None = None
    ask_element: bool = False
    ask_edge: bool = False
    column_labels: tuple[str, ...] = ()
    groups: tuple[tuple[str, str], ...] = ()

    @property
    def usable(self) -> bool:
        return self.spectrum is not None and self.error is None


def read_upload(raw: bytes, name: str, choices: Choices = Choices(),
                max_bytes: int = DEFAULT_MAX_BYTES) -> UploadResult:
    """Read one uploaded file and check that the K-edge model can use it (see module doc).

    A question once asked stays in the result after it is answered, so the page keeps showing
    the widget that holds the answer (the person can still change it).
    """
    try:
        groups = athena_groups(raw, name, max_bytes)
    except XanesError as exc:
        return UploadResult(name, error=str(exc))
    result = UploadResult(name, groups=groups if len(groups) > 1 else (),
                          ask_element=choices.element is not None, ask_edge=choices.edge is not None,
                          column_labels=column_labels(raw, name, max_bytes) if choices.columns else ())
    ids = [group_id for group_id, _ in groups]
    group = choices.group if choices.group in ids else (ids[0] if ids else None)
    try:
        spectrum = read_spectrum(raw, name, element=choices.element, edge=choices.edge,
                                 columns=choices.columns, group=group, max_bytes=max_bytes)
    except ColumnChoiceNeeded as exc:
        return replace(result, column_labels=exc.labels, error=str(exc))
    except XanesError as exc:
        return replace(result, error=str(exc))
    result = replace(result, spectrum=spectrum, ask_edge=result.ask_edge or spectrum.edge is None)
    try:
        normalize_for_model(spectrum)
    except ElementNeeded:
        return replace(result, ask_element=True, error=f"{name}: the file does not say which element "
                       "absorbs and its edge energy matches no tabulated edge; choose the element.")
    except XanesError as exc:
        return replace(result, error=str(exc))
    return result


def athena_groups(raw: bytes, name: str,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[tuple[str, str], ...]:
    """(group id, label) of every mu(E) group of an Athena project; () for any other format."""
    text = decode_text(*load_bytes(raw, max_bytes, name))
    parser = {"athena": parse_athena, "athena-json": parse_athena_json}.get(sniff_format(text))
    if parser is None:
        return ()
    return tuple((str(p.metadata.get("group", p.name)), p.name) for p in parser(text, name))


def column_labels(raw: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, ...]:
    """Every column label of a column or XDI file (what the person chooses energy and mu from)."""
    text = decode_text(*load_bytes(raw, max_bytes, name))
    parser = parse_xdi if sniff_format(text) == "xdi" else parse_columns
    return tuple(parser(text, name, _ANY_COLUMNS).metadata["columns"])
