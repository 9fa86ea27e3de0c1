"""Ensemble members trained side by side, one worker process per place, on the CPU.

One small CNN does not keep several CPU cores busy: TensorFlow's threads mostly wait on each
other. Measured on 2 cores (BENCHMARKS.md, "Ensembles and calibration"): two members in two
single-threaded processes take about as long as one member with both cores. So an ensemble
starts ``places`` worker processes (:mod:`xanes_core.learn.member_worker`), each with
``cores / places`` TensorFlow threads, gives each the next member as soon as it is free, and
loads the trained members back.

The parent's Keras callbacks still see every member's training: each worker sends its
callback events, which are replayed here, in the calling thread, to the callbacks
``member_callbacks(i)`` returns for member ``i`` (called when the member starts; an exception
from it stops the whole ensemble). Their ``model`` is a stand-in whose ``stop_training``, once
set, stops that member after its current batch, as it would in this process. Nothing crosses
between processes but .npy arrays (read without pickle) and JSON lines.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

import numpy as np

import xanes_core
from xanes_core.errors import XanesError
from xanes_core.learn.member_worker import HISTORY_FILE, STOP_FILE

MemberCallbacks = Callable[[int], Sequence[Any]]
_QUIT_SECONDS = 10.0


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Worker:
    """One worker process, the thread reading its lines, and the member it trains."""

    def __init__(self, number: int, folder: Path, threads: int, lines: queue.Queue) -> None:
        self.number, self.log = number, folder / f"worker-{number}.log"
        package_root = str(Path(xanes_core.__file__).resolve().parents[1])
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "2",
               "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
               "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xanes_core.learn.member_worker", str(folder), str(threads)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1)
        self.member: int | None = None
        self.reader = threading.Thread(target=self._read, args=(lines,), daemon=True,
                                       name=f"ensemble-worker-{number}")
        self.reader.start()

    def _read(self, lines: queue.Queue) -> None:
        for line in self.process.stdout:
            lines.put((self, line))
        lines.put((self, None))

    def order(self, member: int, params: dict[str, Any], out: Path) -> None:
        self.member = member
        self.process.stdin.write(json.dumps({"member": member, "params": params, "out": str(out)}) + "\n")
        self.process.stdin.flush()

    def last_words(self) -> str:
        """The last line the process wrote to its log (why it died), if any."""
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip()[:300] if lines else f"exit status {self.process.poll()}"

    def close(self) -> None:
        """No more orders: an idle worker exits; one still training is stopped."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if self.member is not None:
            self.process.terminate()

    def wait(self) -> None:
        try:
            self.process.wait(_QUIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(_QUIT_SECONDS)


def train_side_by_side(members: Sequence[Any], X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
                       validation: tuple[np.ndarray, np.ndarray], member_callbacks: MemberCallbacks | None,
                       places: int) -> list[Any]:
    """Fit unfitted CNNClassifiers ``members`` in ``places`` worker processes (the module
    docstring); returns them fitted (loaded from the workers' saved models, with history)."""
    cores = usable_cores()
    places = max(1, min(places, len(members)))
    with tempfile.TemporaryDirectory(prefix="xanes-ensemble-") as name:
        folder = Path(name)
        arrays = {"X": X, "y": y, "X_val": validation[0], "y_val": validation[1], "sample_weight": sample_weight}
        for key, array in arrays.items():
            if array is not None:
                np.save(folder / f"{key}.npy", np.asarray(array), allow_pickle=False)
        lines: queue.Queue = queue.Queue()
        workers = [_Worker(number, folder, max(1, cores // places), lines) for number in range(places)]
        try:
            return _Schedule(members, folder, member_callbacks).run(workers, lines)
        finally:
            for worker in workers:
                worker.close()
            for worker in workers:  # all exit at once (TensorFlow's teardown takes about a second)
                worker.wait()


class _Schedule:
    """Hands out members to free workers and replays their events to the members' callbacks."""

    def __init__(self, members: Sequence[Any], folder: Path, member_callbacks: MemberCallbacks | None) -> None:
        self.members, self.folder = list(members), folder
        self.member_callbacks = member_callbacks
        self.callbacks: dict[int, Sequence[Any]] = {}
        self.stand_ins: dict[int, SimpleNamespace] = {}
        self.fitted: dict[int, Any] = {}
        self.next = 0

    def _out(self, member: int) -> Path:
        return self.folder / "members" / str(member)

    def _start_next(self, worker: _Worker) -> None:
        if self.next >= len(self.members):
            worker.member = None
            return
        member, self.next = self.next, self.next + 1
        callbacks = self.member_callbacks(member) if self.member_callbacks is not None else ()
        stand_in = SimpleNamespace(stop_training=False)
        for callback in callbacks:
            callback.set_model(stand_in)
        self.callbacks[member], self.stand_ins[member] = callbacks, stand_in
        self._out(member).mkdir(parents=True)
        worker.order(member, self.members[member].get_params(), self._out(member))

    def run(self, workers: list[_Worker], lines: queue.Queue) -> list[Any]:
        for worker in workers:
            self._start_next(worker)
        while len(self.fitted) < len(self.members):
            worker, line = lines.get()
            if line is None and worker.member is None:
                continue  # an idle worker gone: the others go on
            if line is None:
                raise XanesError(f"CNN {(worker.member or 0) + 1} of the ensemble stopped: its training process "
                                 f"ended ({worker.last_words()}).")
            message = json.loads(line)
            member = int(message["member"])
            if "error" in message:
                raise XanesError(f"CNN {member + 1} of the ensemble failed: {message['error']}")
            if message.get("done"):
                self.fitted[member] = self._load(member)
                self._start_next(worker)
            else:
                self._replay(member, message)
        return [self.fitted[member] for member in range(len(self.members))]

    def _replay(self, member: int, message: dict[str, Any]) -> None:
        callbacks, stand_in = self.callbacks[member], self.stand_ins[member]
        hook = message["hook"]
        for callback in callbacks:
            if hook == "on_train_begin":
                callback.set_params(message["params"])
            getattr(callback, hook)(*message["args"], logs=message["logs"])
        if stand_in.stop_training and not (self._out(member) / STOP_FILE).exists():
            (self._out(member) / STOP_FILE).touch()

    def _load(self, member: int) -> Any:
        fitted = self.members[member].restore(self._out(member))
        fitted.history_ = json.loads((self._out(member) / HISTORY_FILE).read_text())
        fitted.device_ = "CPU"
        return fitted
