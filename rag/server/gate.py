"""The one queue in front of the language model, shared by the chat UI, the API and the
widget: first come, first served, at most `limit` answers at a time, and every waiting
request can see its place in line.

It is a plain threading object because Gradio and Starlette both run the answering
generators in worker threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class QueueFullError(RuntimeError):
    pass


class QueueTimeoutError(TimeoutError):
    pass


class Ticket:
    def __init__(self, gate: AnswerGate):
        self._gate = gate
        self.admitted = False
        self.left = False

    def position(self) -> int:
        """1 = next in line; 0 = being answered."""
        return self._gate._position(self)

    def wait(self, poll_s: float = 0.5) -> Iterator[int]:
        """Yield the place in line whenever it changes, until admitted; raise
        QueueTimeoutError after the gate's timeout."""
        deadline = time.monotonic() + self._gate.timeout_s
        last = -1
        while True:
            with self._gate._cond:
                if self._gate._try_admit(self):
                    return
                place = self._gate._position(self)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueueTimeoutError(f"waited {self._gate.timeout_s:.0f} s in the queue")
                if place == last:
                    self._gate._cond.wait(min(poll_s, remaining))
                    continue
            last = place
            yield place

    def leave(self) -> None:
        self._gate._leave(self)


class AnswerGate:
    def __init__(self, limit: int = 1, timeout_s: float = 300.0, max_waiting: int = 32):
        self.limit = max(1, limit)
        self.timeout_s = timeout_s
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._active = 0

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @property
    def active(self) -> int:
        with self._cond:
            return self._active

    def join(self) -> Ticket:
        with self._cond:
            if len(self._waiting) >= self.max_waiting:
                raise QueueFullError(f"{len(self._waiting)} requests are already waiting")
            ticket = Ticket(self)
            self._waiting.append(ticket)
            return ticket

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait without reporting (for callers that cannot show a queue)."""
        ticket = self.join()
        try:
            for _ in ticket.wait():
                pass
            yield
        finally:
            ticket.leave()

    # -------------------------------------------------------- under self._cond

    def _try_admit(self, ticket: Ticket) -> bool:
        if ticket.admitted:
            return True
        if self._active < self.limit and self._waiting and self._waiting[0] is ticket:
            self._waiting.popleft()
            self._active += 1
            ticket.admitted = True
            self._cond.notify_all()  # everyone behind moves up one place
            return True
        return False

    def _position(self, ticket: Ticket) -> int:
        if ticket.admitted:
            return 0
        try:
            return self._waiting.index(ticket) + 1
        except ValueError:
            return 0

    def _leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket.left:
                return
            ticket.left = True
            if ticket.admitted:
                self._active -= 1
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._cond.notify_all()
