"""Spectrum commands: ``read`` (what the readers make of one file), ``match`` (the dataset
materials whose spectra look most like it) and ``predict`` (one material).

All take the choices the Predict page asks for when a file leaves them open: the absorbing
element, the edge, the energy and mu columns of an ambiguous column file, the group of an
Athena project. Files, space group and CIF are checked before a run is loaded, so these input
errors are reported without importing TensorFlow.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from xanes_core.errors import XanesError
from xanes_core.io.reader import read_spectrum
from xanes_core.io.spectrum import Spectrum


def register(commands: argparse._SubParsersAction) -> None:
    read = commands.add_parser("read", help="read one spectrum file and describe it")
    read.add_argument("file", metavar="FILE", help="XDI, Athena .prj, column text, FEFF xmu.dat, MP JSON/TSV")
    _add_file_choices(read, per_file=False)
    # Kept so that scripts written for the first release keep working; the output is always JSON.
    read.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    read.set_defaults(handler=read_file)

    predict = commands.add_parser("predict", help="predict topological vs trivial for one material "
                                  "from its spectra (one file per absorbing element)")
    predict.add_argument("--run", required=True, metavar="RUN_DIR", help="a completed CNN run folder")
    predict.add_argument("files", nargs="+", metavar="FILE", help="K-edge spectrum files of one material")
    symmetry = predict.add_mutually_exclusive_group()
    symmetry.add_argument("--space-group", metavar="N", help="space group number (1-230)")
    symmetry.add_argument("--cif", metavar="FILE", help="crystal structure; its space group is used")
    predict.add_argument("--formula", metavar="FORMULA",
                         help="the material's formula: its elements without a spectrum are reported")
    _add_file_choices(predict, per_file=True)
    _add_no_align(predict)
    predict.set_defaults(handler=predict_material)

    match = commands.add_parser("match", help="the dataset materials whose spectra look most like one file")
    match.add_argument("--dataset", required=True, metavar="DIR", help="a dataset folder (the library)")
    match.add_argument("file", metavar="FILE", help="a K-edge spectrum file")
    match.add_argument("--top", type=int, metavar="K", help="how many matches to list (default 10)")
    _add_file_choices(match, per_file=False)
    _add_no_align(match)
    match.set_defaults(handler=match_file)

    batch = commands.add_parser("predict-batch", help="predict every material of a manifest (one row per spectrum)")
    batch.add_argument("--run", required=True, metavar="RUN_DIR", help="a completed CNN run folder")
    batch.add_argument("--manifest", required=True, metavar="FILE.csv",
                       help="material_id, formula, space_group, label (ignored), element, file (beside it)")
    batch.add_argument("--out", metavar="FILE.csv", help="the table to write (default: <manifest>_predictions.csv beside it)")
    _add_no_align(batch)
    batch.set_defaults(handler=predict_batch)


def _add_no_align(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-align", action="store_true",
                        help="keep each spectrum at its own energies (no alignment to the data's edge)")


def _add_file_choices(parser: argparse.ArgumentParser, per_file: bool) -> None:
    each = " (one per FILE, in order; '-' leaves a file to its own metadata)" if per_file else ""
    parser.add_argument("--element", nargs="+" if per_file else None, metavar="EL",
                        help=f"absorbing element, when the file does not say{each}")
    parser.add_argument("--edge", metavar="EDGE", help="absorption edge, when the file does not say (K, L3, ...)")
    parser.add_argument("--columns", nargs=2, metavar=("ENERGY", "MU"),
                        help="energy and mu column (label or 1-based number) of a column or XDI file")
    parser.add_argument("--group", metavar="ID", help="the group (label or id) of an Athena project")


def summarize(spectrum: Spectrum) -> dict[str, Any]:
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
        "notes": list(spectrum.notes),
    }


def _read(path: str, element: str | None, args: argparse.Namespace) -> Spectrum:
    columns = tuple(args.columns) if args.columns else None
    return read_spectrum(path, element=element, edge=args.edge, columns=columns, group=args.group)


def read_file(args: argparse.Namespace) -> dict[str, Any]:
    return summarize(_read(args.file, args.element, args))


def _elements_per_file(args: argparse.Namespace) -> list[str | None]:
    if args.element is None:
        return [None] * len(args.files)
    if len(args.element) != len(args.files):
        raise XanesError(f"--element takes one symbol per file ({len(args.files)}), '-' for a file "
                         f"that names its own element; got {len(args.element)}.")
    return [None if symbol == "-" else symbol for symbol in args.element]


def predict_material(args: argparse.Namespace) -> dict[str, Any]:
    from xanes_core.analysis.materials import prepare_material
    from xanes_core.analysis.prediction import Predictor

    spectra = [_read(path, element, args) for path, element in zip(args.files, _elements_per_file(args))]
    material = prepare_material(spectra, args.space_group, Path(args.cif) if args.cif is not None else None,
                                args.formula)
    return Predictor(args.run).predict_material(material, align=not args.no_align).to_dict()


def match_file(args: argparse.Namespace) -> dict[str, Any]:
    """``seconds``: the search itself, once the dataset is loaded and its features computed."""
    from xanes_core.analysis.matching import DEFAULT_TOP, SpectrumLibrary
    from xanes_core.data.dataset import XanesDataset
    from xanes_core.io import normalize_for_model

    top = DEFAULT_TOP if args.top is None else args.top
    if top < 1:
        raise XanesError(f"--top must be at least 1 (got {top}).")
    spectrum = _read(args.file, args.element, args)
    normalized = normalize_for_model(spectrum)
    library = SpectrumLibrary(XanesDataset.load(args.dataset))
    return library.match(normalized.energy, normalized.mu_norm, normalized.element, top=top,
                         align=not args.no_align, is_computed=spectrum.is_computed).to_dict()


def predict_batch(args: argparse.Namespace) -> dict[str, Any]:
    """The manifest is read before the run is loaded: a bad one fails without TensorFlow."""
    from xanes_core.analysis.batch import predict_manifest, write_csv
    from xanes_core.analysis.prediction import Predictor
    from xanes_core.sources.local_files import manifest_bytes, read_manifest

    manifest = Path(args.manifest)
    out = Path(args.out) if args.out else manifest.with_name(f"{manifest.stem}_predictions.csv")
    if out.resolve() == manifest.resolve():
        raise XanesError("--out must not be the manifest itself.")
    read_manifest(manifest_bytes(manifest), manifest.name)
    result = predict_manifest(Predictor(args.run), manifest, align=not args.no_align)
    return result.to_dict(write_csv(result, out))
