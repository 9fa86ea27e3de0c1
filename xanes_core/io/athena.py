"""Athena project files (.prj): the old Perl-dump form and the newer JSON form.

The Perl-dump form is Perl source (``$old_group = '...'; @args = (...); @x = (...);``) and
Athena itself evals it. We never evaluate it, not even with larch's restricted ``asteval``:
a tiny tokenizer reads only literal lists of quoted strings, numbers, ``[]`` and ``{}`` on
the statements we need (``old_group``, ``args``, ``x``, ``y``) and skips every other
statement unread, so ``@journal = system("...")`` in a hostile file is just text.

A group's ``@x`` is energy and ``@y`` is mu for mu(E) records; ``bkg_z`` and ``fft_edge``
in its arguments name element and edge, ``label`` its name. Records that are not mu(E)
(chi(k), derivative, difference, pixel data) are skipped. ``bkg_eshift`` is kept in metadata
and not applied, as larch's reader does.
"""

from __future__ import annotations

import json
import re

import numpy as np

from xanes_core.errors import SpectrumError
from xanes_core.io.spectrum import ParsedSpectrum

_TOKEN = re.compile(
    r"""\s*(?:
        '(?P<single>(?:[^'\\]|\\.)*)'
      | "(?P<double>(?:[^"\\]|\\.)*)"
      | (?P<arrow>=>)
      | (?P<punct>[()\[\]{},])
      | (?P<bare>[^\s,()\[\]{}'"=]+)
      | (?P<bad>\S)
    )""",
    re.X | re.S,
)
_STATEMENT = re.compile(r"^([$@%])(\w+)\s*=\s*(.*?);?\s*$", re.S)
_WANTED = {"old_group", "args", "x", "y"}
_MAX_DEPTH = 20
_NOT_MU = ("is_chi", "is_bkg", "is_diff", "is_pixel", "is_rsp", "is_qsp", "is_xmudat")


def parse_athena(text: str, name: str) -> list[ParsedSpectrum]:
    """Every mu(E) group of a Perl-dump Athena project, in file order."""
    records: list[dict] = []
    current: dict = {}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[record]"):
            records.append(current)
            current = {}
            continue
        statement = _STATEMENT.match(stripped)
        if statement and statement.group(2) in _WANTED:
            current[statement.group(2)] = _literal(statement.group(3), name)
    if current.get("x") is not None:
        records.append(current)
    return _groups(records, name)


def parse_athena_json(text: str, name: str) -> list[ParsedSpectrum]:
    """Every mu(E) group of a JSON Athena project, in the project's ``_____order``."""
    try:
        project = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SpectrumError(f"{name}: not a valid JSON Athena project ({str(exc)[:80]}).") from None
    if not isinstance(project, dict):
        raise SpectrumError(f"{name}: not a JSON Athena project.")
    order = project.get("_____order")
    keys = order if isinstance(order, list) else [k for k in project if not str(k).startswith("_____")]
    records = []
    for key in keys:
        group = project.get(key) if isinstance(key, str) else None
        if isinstance(group, dict):
            records.append({"old_group": key, **group})
    return _groups(records, name)


def _groups(records: list[dict], name: str) -> list[ParsedSpectrum]:
    spectra = []
    for record in records:
        args = _args_dict(record.get("args"))
        if "x" not in record or "y" not in record or any(_truthy(args.get(k)) for k in _NOT_MU):
            continue
        try:
            energy = np.asarray(record["x"], dtype=np.float64)
            mu = np.asarray(record["y"], dtype=np.float64)
        except (TypeError, ValueError):
            raise SpectrumError(f"{name}: group '{record.get('old_group')}' has non-numeric data.") from None
        group_id = str(record.get("old_group") or "")
        label = str(args.get("label") or "").strip() or group_id or name
        spectra.append(
            ParsedSpectrum(
                energy=energy.ravel(),
                mu=mu.ravel(),
                source_format="athena",
                name=label,
                is_computed=False,
                element=_text(args.get("bkg_z")),
                edge=_text(args.get("fft_edge")),
                metadata={
                    "file": name,
                    "group": group_id,
                    "label": label,
                    "e0_file": _text(args.get("bkg_e0")),
                    "eshift_file": _text(args.get("bkg_eshift")),
                },
            )
        )
    if not spectra:
        raise SpectrumError(f"{name}: no mu(E) data groups in this Athena project.")
    return spectra


def _args_dict(args) -> dict:
    """Athena's ``@args`` is a flat key, value, key, value list (a dict in the JSON form)."""
    if isinstance(args, dict):
        return args
    if isinstance(args, list):
        return {str(args[i]): args[i + 1] for i in range(0, len(args) - 1, 2)}
    return {}


def _text(value) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) and str(value).strip() else None


def _truthy(value) -> bool:
    try:
        return float(value) != 0
    except (TypeError, ValueError):
        return False


def _literal(source: str, name: str):
    """A Perl literal (string, number, (list), [list], {hash}) as Python data; never evaluated."""
    tokens = _tokenize(source, name)
    value, position = _value(tokens, 0, name, 0)
    if position != len(tokens):
        raise SpectrumError(f"{name}: unexpected text after a value in the Athena project.")
    return value


def _tokenize(source: str, name: str) -> list[tuple[str, str]]:
    tokens = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "bad":
            near = source[match.start() : match.start() + 30]
            raise SpectrumError(f"{name}: cannot read the Athena project near '{near}'.")
        if kind in ("single", "double"):
            kind, text = "string", re.sub(r"\\(.)", r"\1", text, flags=re.S) if "\\" in text else text
        tokens.append((kind, text))
    return tokens


def _value(tokens, i: int, name: str, depth: int):
    if i >= len(tokens) or depth > _MAX_DEPTH:
        raise SpectrumError(f"{name}: malformed list in the Athena project.")
    kind, text = tokens[i]
    if kind in ("string", "bare"):
        return text, i + 1
    closing = {"(": ")", "[": "]", "{": "}"}.get(text)
    if closing is None:
        raise SpectrumError(f"{name}: unexpected '{text}' in the Athena project.")
    items, i = [], i + 1
    while i < len(tokens) and tokens[i][1] != closing:
        if tokens[i][1] in (",", "=>"):
            i += 1
            continue
        item, i = _value(tokens, i, name, depth + 1)
        items.append(item)
    if i >= len(tokens):
        raise SpectrumError(f"{name}: unclosed '{text}' in the Athena project.")
    if text == "{":
        return {str(items[k]): items[k + 1] for k in range(0, len(items) - 1, 2)}, i + 1
    return items, i + 1
