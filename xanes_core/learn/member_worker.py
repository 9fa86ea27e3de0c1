"""A process that trains ensemble members for :mod:`xanes_core.learn.member_pool`.

Started as ``python -m xanes_core.learn.member_worker FOLDER THREADS``: TensorFlow is limited to
``THREADS`` CPU threads before its first operation, the training data is read once from
``FOLDER`` (.npy files, no pickles), then each line on stdin orders one member::

    {"member": i, "params": {CNNClassifier settings}, "out": "FOLDER/members/i"}

The member is fitted exactly as in the parent (:meth:`CNNClassifier.fit` with the validation
split), saved to ``out`` with its history (history.json), and followed by ``{"member": i,
"done": true}``; a failure by ``{"member": i, "error": "..."}`` and the end of the process.
Meanwhile every Keras callback event of the fit goes to stdout as one JSON line, so the parent
can replay it to its own callbacks; a file named ``stop`` in ``out`` ends the fit after the
current batch, as ``model.stop_training`` would. End of stdin ends the process. Anything a
library prints goes to stderr (the parent keeps it in a log); stdout carries the protocol only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

STOP_FILE, HISTORY_FILE = "stop", "history.json"
DATA_FILES = ("X", "y", "X_val", "y_val", "sample_weight")


def _protocol_stream() -> TextIO:
    """The real stdout for protocol lines; file descriptor 1 is pointed at stderr, so nothing a
    library prints can break a line."""
    stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    return stream


def _numbers(logs: dict | None) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items()}


def _relay_class(keras: Any) -> type:
    class Relay(keras.callbacks.Callback):
        """Sends each training event of one member as a JSON line; stops on the stop file."""

        def __init__(self, member: int, stop_file: Path, send: Callable[[dict], None]) -> None:
            super().__init__()
            self.member, self.stop_file, self.send = member, stop_file, send

        def _event(self, hook: str, *args: int, logs: dict | None = None, **extra: Any) -> None:
            self.send({"member": self.member, "hook": hook, "args": list(args), "logs": _numbers(logs), **extra})

        def on_train_begin(self, logs: dict | None = None) -> None:
            params = {key: self.params[key] for key in ("epochs", "steps") if key in self.params}
            self._event("on_train_begin", logs=logs, params=params)

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._event("on_epoch_begin", epoch, logs=logs)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self._event("on_train_batch_end", batch, logs=logs)
            if self.stop_file.exists():
                self.model.stop_training = True

        def on_test_begin(self, logs: dict | None = None) -> None:
            self._event("on_test_begin", logs=logs)

        def on_test_end(self, logs: dict | None = None) -> None:
            self._event("on_test_end", logs=logs)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self._event("on_epoch_end", epoch, logs=logs)

        def on_train_end(self, logs: dict | None = None) -> None:
            self._event("on_train_end", logs=logs)

    return Relay


def main(folder: Path, threads: int) -> int:
    protocol = _protocol_stream()

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")

    import keras
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from xanes_core import atomic
    from xanes_core.errors import XanesError
    from xanes_core.learn.classifiers import CNNClassifier

    data = {name: np.load(folder / f"{name}.npy", allow_pickle=False)
            for name in DATA_FILES if (folder / f"{name}.npy").is_file()}
    relay = _relay_class(keras)
    for line in sys.stdin:
        order = json.loads(line)
        index, out = int(order["member"]), Path(order["out"])
        try:
            member = CNNClassifier(**order["params"])
            member.fit(data["X"], data["y"], data.get("sample_weight"), validation=(data["X_val"], data["y_val"]),
                       callbacks=[relay(index, out / STOP_FILE, send)])
            member.save(out)
            atomic.write_json(out / HISTORY_FILE, member.history_)
        except Exception as exc:  # noqa: BLE001 - the parent reports it as this member's failure
            send({"member": index, "error": str(exc) if isinstance(exc, XanesError) else f"{type(exc).__name__}: {exc}"})
            return 1
        send({"member": index, "done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
