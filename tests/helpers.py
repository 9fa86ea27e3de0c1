"""Helpers shared across test folders."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xanes_core.cli.main import build_parser
from xanes_core.data.dataset import UNLABELLED, XanesDataset

# What `train` (and `tune-best`) print: the contract other tools read (README, Commands).
TRAIN_KEYS = {"run_dir", "model", "device", "seconds", "epochs_run", "task", "test", "roc_auc",
              "reference_balanced_accuracy", "ece", "ece_uncalibrated", "brier", "n_members"}


def run_command(*argv: str) -> Any:
    """A CLI command run in this process, exactly as `python -m xanes_core` parses and runs it,
    returning what it would print as JSON (a user error raises XanesError)."""
    args = build_parser().parse_args(list(argv))
    return args.handler(args)


def with_unlabelled(dataset: XanesDataset, count: int, scale: float = 1.0) -> XanesDataset:
    """``dataset`` plus unlabelled copies of its first ``count`` materials (spectra times ``scale``),
    as a build from local files stores materials whose class is unknown: label -1, no split."""
    extra = dataset.subset(np.arange(count))
    metadata = extra.metadata.assign(sample_id="ref-" + extra.metadata["sample_id"], label=UNLABELLED, split=None)
    return XanesDataset(
        spectra=np.concatenate([dataset.spectra, extra.spectra * scale]),
        sample_index=np.concatenate([dataset.sample_index, extra.sample_index + dataset.n_samples]),
        channel=np.concatenate([dataset.channel, extra.channel]),
        coverage=np.concatenate([dataset.coverage, extra.coverage]),
        metadata=pd.concat([dataset.metadata, metadata], ignore_index=True),
        provenance=dict(dataset.provenance),
    )
