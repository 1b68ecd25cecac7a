"""The one queue in front of the language model, shared by the chat UI, the API and the
widget: first come, first served, at most `limit` answers at a time, and every waiting
request can see its place in line.

It is a plain threading object because the answers run in worker threads. Each ticket
carries the cancel signal of its request: whoever ends the request (the client went
away, the server is stopping) sets it, and the queue wait, the pipeline and the model
all stop on it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator

from rag.errors import Cancelled, QueueClosedError, QueueFullError, QueueTimeoutError


class Ticket:
    def __init__(self, gate: AnswerGate):
        self._gate = gate
        self.admitted = False
        self.left = False
        self.cancel = threading.Event()

    def position(self) -> int:
        """1 = next in line; 0 = being answered."""
        return self._gate._position(self)

    def wait(self, poll_s: float = 0.5) -> Iterator[int]:
        """Yield the place in line whenever it changes, until admitted; raise
        QueueTimeoutError after the gate's timeout, Cancelled once the request is."""
        deadline = time.monotonic() + self._gate.timeout_s
        last = -1
        while True:
            with self._gate._cond:
                if self.cancel.is_set():
                    raise Cancelled
                if self._gate._try_admit(self):
                    return
                place = self._gate._position(self)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueueTimeoutError(seconds=self._gate.timeout_s)
                if place == last:
                    self._gate._cond.wait(min(poll_s, remaining))
                    continue
            last = place
            yield place

    def leave(self) -> None:
        self._gate._leave(self)

    def cancel_now(self) -> None:
        """Stop this request wherever it is; wakes it if it waits in line."""
        self.cancel.set()
        with self._gate._cond:
            self._gate._cond.notify_all()


class AnswerGate:
    def __init__(self, limit: int = 1, timeout_s: float = 300.0, max_waiting: int = 32):
        self.limit = max(1, limit)
        self.timeout_s = timeout_s
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._admitted: set[Ticket] = set()
        self._closed = False

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._admitted)

    def join(self) -> Ticket:
        with self._cond:
            if self._closed:
                raise QueueClosedError()
            if len(self._waiting) >= self.max_waiting:
                raise QueueFullError(waiting=len(self._waiting))
            ticket = Ticket(self)
            self._waiting.append(ticket)
            return ticket

    def close(self) -> None:
        """Stopping: refuse newcomers and cancel every request, waiting or answering."""
        with self._cond:
            self._closed = True
            tickets = [*self._waiting, *self._admitted]
        for ticket in tickets:
            ticket.cancel_now()

    # -------------------------------------------------------- under self._cond

    def _try_admit(self, ticket: Ticket) -> bool:
        if ticket.admitted:
            return True
        if len(self._admitted) < self.limit and self._waiting and self._waiting[0] is ticket:
            self._waiting.popleft()
            self._admitted.add(ticket)
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
                self._admitted.discard(ticket)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._cond.notify_all()
