"""What a person decides about a run after it was made: its name, a note, its operating point.

Kept in ``RUN_DIR/settings.json``, apart from ``config.json``, which records what the run was
made from and never changes. Every reader of a run's threshold (the Results page, the report,
the figure pack, the Predictor) reads it here, so one saved choice drives them all. A missing
file means: no name, no note, the paper's threshold 0.5. Writes are atomic.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from xanes_core import atomic
from xanes_core.errors import RunError

SETTINGS = "settings.json"
MAX_NAME = 80
MAX_NOTE = 2000
DEFAULT_THRESHOLD = 0.5
PAPER = "paper"  # the run's own balanced cut (learn.operating_point.run_default); the threshold field is not used
BY_HAND = "custom"  # a threshold a person set: used as saved


@dataclass(frozen=True)
class RunSettings:
    """``threshold_rule``: which rule chose the threshold (see :mod:`xanes_core.learn.operating_point`)."""

    name: str = ""
    note: str = ""
    threshold: float = DEFAULT_THRESHOLD
    threshold_rule: str = PAPER
    updated: str = ""

    def title(self, run_id: str) -> str:
        """The name a person gave the run, else its id."""
        return self.name or run_id


def _check(settings: RunSettings) -> RunSettings:
    name, note = settings.name.strip(), settings.note.strip()
    if len(name) > MAX_NAME:
        raise RunError(f"A run name has at most {MAX_NAME} characters ({len(name)} given).")
    if len(note) > MAX_NOTE:
        raise RunError(f"A run note has at most {MAX_NOTE} characters ({len(note)} given).")
    if not 0.0 <= float(settings.threshold) <= 1.0:
        raise RunError(f"A threshold on p(topological) lies between 0 and 1 ({settings.threshold} given).")
    return replace(settings, name=name, note=note, threshold=float(settings.threshold))


def read_settings(run_dir: str | Path) -> RunSettings:
    """The run's settings; defaults when there is no file, RunError when it is unreadable."""
    path = Path(run_dir) / SETTINGS
    try:
        values: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return RunSettings()
    except (OSError, ValueError):
        raise RunError(f"{path} is unreadable or not JSON; delete it to reset the run's name and threshold.") from None
    known = {key: value for key, value in values.items() if key in RunSettings.__dataclass_fields__}
    try:
        return _check(RunSettings(**known))
    except (TypeError, ValueError):
        raise RunError(f"{path} does not hold run settings; delete it to reset them.") from None


def settings_stamp(run_dir: str | Path) -> int:
    """Modification time of settings.json (0 without one): a cache key part for readers."""
    try:
        return (Path(run_dir) / SETTINGS).stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def update_settings(run_dir: str | Path, **changes: Any) -> RunSettings:
    """Change some settings of a run (checked, then written atomically); returns the new ones.
    A threshold given without the rule that chose it was set by hand (so it is used as given)."""
    run_dir = Path(run_dir)
    if "threshold" in changes and "threshold_rule" not in changes:
        changes["threshold_rule"] = BY_HAND
    if not run_dir.is_dir():
        raise RunError(f"No run at {run_dir.name}.")
    settings = _check(replace(read_settings(run_dir), **changes,
                              updated=datetime.now(timezone.utc).isoformat(timespec="seconds")))
    atomic.write_json(run_dir / SETTINGS, asdict(settings))
    return settings
