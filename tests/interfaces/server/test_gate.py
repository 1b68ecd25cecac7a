from __future__ import annotations

import threading

import pytest

from rag.interfaces.server.gate import AnswerGate, QueueFullError, QueueTimeoutError
from tests.interfaces.server.conftest import holding, wait_until


def test_first_comes_in_at_once() -> None:
    gate = AnswerGate(limit=1)
    ticket = gate.join()
    assert list(ticket.wait()) == []
    assert ticket.position() == 0 and gate.active == 1
    ticket.leave()
    assert gate.active == 0


def test_waiting_requests_see_their_place_move_up() -> None:
    gate = AnswerGate(limit=1, timeout_s=10)
    first = gate.join()
    list(first.wait())
    second, third = gate.join(), gate.join()
    assert (second.position(), third.position()) == (1, 2)
    seen: list[int] = []
    done = threading.Event()

    def third_waits() -> None:
        seen.extend(third.wait(poll_s=0.02))
        done.set()

    threading.Thread(target=third_waits, daemon=True).start()
    assert wait_until(lambda: seen == [2])
    first.leave()
    list(second.wait())  # second is admitted; third moves up to 1
    assert wait_until(lambda: seen == [2, 1])
    second.leave()
    assert done.wait(5) and third.position() == 0


def test_limit_is_respected_with_many_threads() -> None:
    gate = AnswerGate(limit=2, timeout_s=10)
    inside, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with holding(gate):
            with lock:
                inside += 1
                peak = max(peak, inside)
            threading.Event().wait(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2 and gate.active == 0 and gate.waiting == 0


def test_a_long_wait_times_out_with_a_clear_error() -> None:
    gate = AnswerGate(limit=1, timeout_s=0.2)
    holder = gate.join()
    list(holder.wait())
    waiter = gate.join()
    with pytest.raises(QueueTimeoutError, match="waited"):
        list(waiter.wait(poll_s=0.05))
    waiter.leave()
    assert gate.waiting == 0


def test_a_full_queue_refuses_instead_of_growing() -> None:
    gate = AnswerGate(limit=1, max_waiting=2)
    gate.join(), gate.join()
    with pytest.raises(QueueFullError):
        gate.join()


def test_leaving_while_waiting_frees_the_place() -> None:
    gate = AnswerGate(limit=1)
    list(gate.join().wait())
    a, b = gate.join(), gate.join()
    a.leave()
    assert b.position() == 1
