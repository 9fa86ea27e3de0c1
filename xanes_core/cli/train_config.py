"""What ``train`` trains: ``--config FILE.json``, then the flags, over the defaults.

The file holds any TrainingConfig settings as JSON (``model_config`` for the architecture), so a
run's own config.json can be passed to train again with the same settings (its bookkeeping
keys, e.g. the dataset it recorded, are ignored: ``--dataset`` says which data). A flag given
on the command line wins over the file. The flags for the departures from the paper (README,
"Departures from the paper") say which value restores the paper's choice.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xanes_core.data.classes import TASKS
from xanes_core.errors import XanesError

if TYPE_CHECKING:  # the settings classes load with the command, not with every --help
    from xanes_core.learn.config import TrainingConfig

# Keys a run's config.json holds besides its settings: accepted in a --config file, not used.
RUN_RECORD_KEYS = frozenset({"schema_version", "created", "dataset", "dataset_samples", "dataset_sha256", "origin"})
MAX_CONFIG_BYTES = 1_000_000
DEFAULT_MEMBERS = 5
_TRAINING_FLAGS = ("model", "epochs", "seed", "ensemble", "task", "label_smoothing", "standardizer_scale")
_MODEL_FLAGS = ("slot_units", "presence_input")


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    """--config and the settings flags of ``train`` (defaults: the file's, else TrainingConfig's)."""
    parser.add_argument("--model", choices=["symmetry", "core", "svm", "elements"],
                        help="CNN with symmetry input (default), spectra-only CNN, or a baseline")
    parser.add_argument("--epochs", type=int, metavar="N", help="maximum epochs (early stopping may end sooner)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--ensemble", type=int, nargs="?", const=DEFAULT_MEMBERS, metavar="N",
                        help=f"train N CNNs (seeds S..S+N-1; N = {DEFAULT_MEMBERS} when omitted) and calibrate "
                             "their mean probability on the validation split; default: one CNN")
    parser.add_argument("--task", choices=list(TASKS),
                        help="binary: topological vs trivial (default); three-class: trivial, "
                             "topological insulator, topological semimetal")
    parser.add_argument("--config", metavar="FILE.json",
                        help="training settings as JSON (e.g. a run's config.json); flags given here win")
    parser.add_argument("--slot-units", type=int, metavar="N",
                        help="units of the dense layer shared by the element slots (default 8; 0: none, the paper)")
    parser.add_argument("--presence-input", action=argparse.BooleanOptionalAction,
                        help="feed the element presence mask to the dense layers (default on; the paper: off)")
    parser.add_argument("--label-smoothing", type=float, metavar="X",
                        help="label smoothing of the cross-entropy (default 0.1; the paper: 0)")
    parser.add_argument("--weighting", choices=["paper", "class", "none"],
                        help="CNN sample weights: class balance (default), class x element rarity (the paper), none")
    parser.add_argument("--rarity-clip", type=_clip, metavar="X|none",
                        help="clip element-rarity weights to [1/X, X] (default 10; none: the paper's)")
    parser.add_argument("--standardizer-scale", choices=["element", "energy"],
                        help="one scale per element (default) or per element and energy (the paper)")


def _clip(text: str) -> float | str:
    if text.lower() == "none":
        return "none"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither a number nor 'none'") from None


def training_config(args: argparse.Namespace) -> TrainingConfig:
    """The TrainingConfig of a ``train`` command line (XanesError, one line, when it is not one)."""
    from xanes_core.learn.config import TrainingConfig

    values = read_config_file(Path(args.config)) if args.config else {}
    architecture = dict(values.pop("model_config", None) or {})
    values.update({key: getattr(args, key) for key in _TRAINING_FLAGS if getattr(args, key) is not None})
    architecture.update({key: getattr(args, key) for key in _MODEL_FLAGS if getattr(args, key) is not None})
    for key in ("weighting", "rarity_clip"):  # "none" on the command line, None in the settings
        if getattr(args, key) is not None:
            values[key] = None if getattr(args, key) == "none" else getattr(args, key)
    try:
        return TrainingConfig.from_dict({**values, "dataset": str(Path(args.dataset).resolve()),
                                         "model_config": architecture})
    except (TypeError, ValueError) as exc:
        raise XanesError(f"The training settings are not valid ({exc}).") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of a --config file; unknown keys are refused rather than silently ignored."""
    from xanes_core.learn.config import ModelConfig, TrainingConfig

    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise XanesError(f"--config {path} is larger than {MAX_CONFIG_BYTES // 1000} kB: not a settings file.")
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XanesError(f"--config {path}: no such file.") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise XanesError(f"--config {path} is not a JSON file.") from None
    if not isinstance(values, dict) or not isinstance(values.get("model_config", {}), dict):
        raise XanesError(f"--config {path} must hold one JSON object of settings (model_config: an object).")
    unknown = sorted(set(values) - set(TrainingConfig.__dataclass_fields__) - RUN_RECORD_KEYS)
    unknown += sorted(f"model_config.{key}" for key in set(values.get("model_config", {}))
                      - set(ModelConfig.__dataclass_fields__))
    if unknown:
        raise XanesError(f"--config {path} has unknown settings: {', '.join(unknown)}.")
    return {key: value for key, value in values.items() if key not in RUN_RECORD_KEYS}
