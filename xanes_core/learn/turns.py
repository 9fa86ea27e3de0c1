"""One training at a time per process: a FIFO of waiting owners (Trainers, tuning trials).

Two trainings in one process would fight over one GPU or two CPU cores and both run slower
than one after the other, so every fit of this process takes its turn here: a Trainer for its
run, a tuning job for each trial. No TensorFlow here.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable

_turn = threading.Condition()
_waiting: deque[object] = deque()


def wait_turn(owner: object, cancelled: Callable[[], bool],
              on_wait: Callable[[int], None] = lambda ahead: None) -> bool:
    """Block until ``owner`` is first in line (True) or ``cancelled()`` (False, out of line).

    ``on_wait(ahead)`` is told how many owners are ahead, every half second while waiting.
    """
    with _turn:
        _waiting.append(owner)
        while _waiting[0] is not owner:
            if cancelled():
                _waiting.remove(owner)
                _turn.notify_all()
                return False
            on_wait(list(_waiting).index(owner))
            _turn.wait(0.5)
    if cancelled():
        release_turn(owner)
        return False
    return True


def release_turn(owner: object) -> None:
    """Leave the line (whether or not it was ``owner``'s turn) and wake the others."""
    with _turn:
        if owner in _waiting:
            _waiting.remove(owner)
        _turn.notify_all()


def wake() -> None:
    """Wake every waiter so that a cancelled one leaves the line at once."""
    with _turn:
        _turn.notify_all()
