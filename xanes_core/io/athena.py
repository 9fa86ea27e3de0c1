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
from collections.abc import Iterator

import numpy as np

from xanes_core.errors import SpectrumError
from xanes_core.io.limits import SPECTRA_PER_FILE, check_count
from xanes_core.io.quote import quote
from xanes_core.io.source import split_lines
from xanes_core.io.spectrum import ParsedSpectrum

# One token after any separators (whitespace, commas, "=>"). Every alternative starts with a
# different character, so a match never backtracks more than one separator run; quoted strings
# are written as "run of plain characters, then (escape, run)*" so a 5 MB string is one run,
# not five million steps on the regex engine's backtracking stack.
_TOKEN = re.compile(
    r"""[\s,]*(?:=>[\s,]*)*(?:
        '(?P<single>[^'\\]*+(?:\\.[^'\\]*+)*+)'
      | "(?P<double>[^"\\]*+(?:\\.[^"\\]*+)*+)"
      | (?P<open>[(\[{])
      | (?P<close>[)\]}])
      | (?P<bare>[^\s,()\[\]{}'"=]+)
      | (?P<bad>\S)
    )""",
    re.X | re.S,
)
# The statement's head only; its value is the rest of the line (no lazy .*? over the line).
_STATEMENT = re.compile(r"([$@%])(\w+)\s*=\s*")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_WANTED = {"old_group", "args", "x", "y"}
_MAX_DEPTH = 20
_LONGEST_LABEL = 120
_NOT_MU = ("is_chi", "is_bkg", "is_diff", "is_pixel", "is_rsp", "is_qsp", "is_xmudat")


def parse_athena(text: str, name: str) -> list[ParsedSpectrum]:
    """Every mu(E) group of a Perl-dump Athena project, in file order."""
    records: list[dict] = []
    current: dict = {}
    for line in split_lines(text, name):
        stripped = line.strip()
        if stripped.startswith("[record]"):
            records.append(current)
            current = {}
            continue
        statement = _STATEMENT.match(stripped)
        if statement and statement.group(2) in _WANTED:
            value = stripped[statement.end():].removesuffix(";").rstrip()
            current[statement.group(2)] = _literal(value, name)
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
    # Each group once: an order naming one group a million times must not copy it a million times.
    unique = dict.fromkeys(key for key in keys if isinstance(key, str))
    records = [{"old_group": key, **project[key]} for key in unique if isinstance(project.get(key), dict)]
    return _groups(records, name)


def _groups(records: list[dict], name: str) -> list[ParsedSpectrum]:
    mu_records = [record for record in records if _is_mu(record)]
    check_count(len(mu_records), SPECTRA_PER_FILE, "spectra", name, SpectrumError)
    spectra = []
    for record in mu_records:
        args = _args_dict(record.get("args"))
        try:
            energy = np.asarray(record["x"], dtype=np.float64)
            mu = np.asarray(record["y"], dtype=np.float64)
        except (TypeError, ValueError):
            raise SpectrumError(f"{name}: group '{quote(record.get('old_group'))}' has non-numeric data.") from None
        group_id = str(record.get("old_group") or "")
        label = quote(str(args.get("label") or "").strip() or group_id or name, _LONGEST_LABEL)
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


def _is_mu(record: dict) -> bool:
    """A group with energy and mu arrays that Athena does not mark as chi(k), derivative, ..."""
    args = _args_dict(record.get("args"))
    return "x" in record and "y" in record and not any(_truthy(args.get(k)) for k in _NOT_MU)


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
    """A Perl literal (string, number, (list), [list], {hash}) as Python data; never evaluated.

    One pass over streamed tokens with an explicit stack of open lists: time linear in the
    line, and nesting past ``_MAX_DEPTH`` is refused when it opens, without recursion.
    """
    open_lists: list[tuple[str, list]] = []
    result, finished = None, False
    for kind, text in _tokens(source, name):
        if finished:
            raise SpectrumError(f"{name}: unexpected text after a value in the Athena project.")
        if kind == "open":
            if len(open_lists) == _MAX_DEPTH:
                raise SpectrumError(f"{name}: lists nested more than {_MAX_DEPTH} deep in the Athena project.")
            open_lists.append((text, []))
            continue
        if kind == "close":
            if not open_lists or _CLOSERS[open_lists[-1][0]] != text:
                raise SpectrumError(f"{name}: unexpected '{text}' in the Athena project.")
            opener, items = open_lists.pop()
            value = dict(zip(map(str, items[::2]), items[1::2])) if opener == "{" else items
        else:
            value = text
        if open_lists:
            open_lists[-1][1].append(value)
        else:
            result, finished = value, True
    if open_lists:
        raise SpectrumError(f"{name}: unclosed '{open_lists[-1][0]}' in the Athena project.")
    if not finished:
        raise SpectrumError(f"{name}: a statement without a value in the Athena project.")
    return result


def _tokens(source: str, name: str) -> Iterator[tuple[str, str]]:
    """(kind, text) of each token: "string", "bare", "open" or "close"; an error at anything else."""
    position = 0
    while (match := _TOKEN.match(source, position)) is not None:
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "bad":
            near = source[match.start(kind) : match.start(kind) + 30]
            raise SpectrumError(f"{name}: cannot read the Athena project near '{near}'.")
        if kind in ("single", "double"):
            kind, text = "string", _unescape(text) if "\\" in text else text
        yield kind, text
        position = match.end()


def _unescape(text: str) -> str:
    r"""``\x`` -> ``x``, ``\\`` -> ``\`` (the token regex guarantees each backslash escapes a character).

    Backslash pairs are split off left to right, as a reader of the string pairs them; string
    methods only, so millions of escapes cost one pass.
    """
    return "\\".join(part.replace("\\", "") for part in text.split("\\\\"))
