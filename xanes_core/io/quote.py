"""File-derived text cut short for messages: an error stays one readable line whatever a file holds.

A header key, a group label or a column list comes from the file and can be megabytes long in
a hostile (or broken) one; messages and warnings show it through these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence


def quote(value: object, most: int = 40) -> str:
    """``str(value)``, cut to ``most`` characters with "..." when longer."""
    text = str(value)
    return text if len(text) <= most else text[: most - 3] + "..."


def listing(items: Sequence[object], noun: str, most: int = 12) -> str:
    """"a, b, c" of the first ``most`` items, each quoted short, and how many there are in all."""
    shown = ", ".join(quote(item, 24) for item in items[:most])
    return shown if len(items) <= most else f"{shown}, ... ({len(items):,} {noun})"
