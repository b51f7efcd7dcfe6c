"""The server's line (:class:`Working`) on its own, with ``slots`` runs at once: the ``ray`` executor lets a cluster
run several calls together, the local one runs one at a time.

Each call is a worker thread in :meth:`Working.turn` that holds its slot until the test releases it. Every wait has
a deadline; the tests never sleep to let a thread get somewhere, they wait for it to say so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from unison_agent.errors import RunCancelled
from unison_agent.mcp_server.worker import Ticket, Working

DEADLINE = 60  # seconds: generous, for a slow shared machine; a test that needs it has failed anyway


@dataclass(eq=False)
class Call:
    """One call in its worker thread: ``started`` is set once its turn has come, and it holds its slot until
    ``release`` is set. ``told`` collects the places it was told while it waited."""

    working: Working
    ticket: Ticket
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    told: list[tuple[int, int]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> Call:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            with self.working.turn(self.ticket, self._on_wait):
                self.started.set()
                assert self.release.wait(DEADLINE), "the test never released its call"
        except BaseException as e:  # read by the test after join()
            self.error = e

    def _on_wait(self, k: int, n: int) -> None:
        with self.changed:
            self.told.append((k, n))
            self.changed.notify_all()

    def wait_told(self, place: tuple[int, int]) -> None:
        """Return once the call has been told ``place``."""
        with self.changed:
            assert self.changed.wait_for(lambda: place in self.told, DEADLINE), f"never told {place}: {self.told}"

    def wait_started(self) -> None:
        assert self.started.wait(DEADLINE), f"{self.ticket.job} never started"

    def finish(self) -> None:
        """Release the call and wait for its thread to end."""
        self.release.set()
        self.join()

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive(), f"{self.ticket.job}'s thread did not end"


def _calls(working: Working, *jobs: str) -> list[Call]:
    """One call per job, entered in the line in this order (as the event loop does, before any thread runs)."""
    calls = [Call(working, Ticket(profile="tiny", job=job)) for job in jobs]
    for call in calls:
        working.enter(call.ticket)
    return calls


def test_with_two_slots_two_calls_run_at_once_while_a_third_is_told_its_place() -> None:
    working = Working(slots=2)
    first, second, third = _calls(working, "a", "b", "c")
    for call in (first, second, third):
        call.start()
    first.wait_started()
    second.wait_started()
    third.wait_told((1, 1))
    assert not third.started.is_set()  # both slots are taken: it is still in line
    assert working.place(third.ticket) == (1, 1)

    first.finish()
    third.wait_started()  # the slot the first one left
    assert second.ticket.running and third.ticket.running
    second.finish()
    third.finish()
    working.wait_idle()
    assert [c.error for c in (first, second, third)] == [None, None, None]


def test_calls_start_in_the_order_they_came_whatever_order_their_threads_run_in() -> None:
    working = Working(slots=2)
    calls = _calls(working, "a", "b", "c", "d", "e")
    for call in reversed(calls):  # the last to come is the first thread to look at the line
        call.start()
    calls[0].wait_started()
    calls[1].wait_started()
    for done in range(3):
        first_in_line, behind = calls[done + 2], calls[done + 3 :]
        assert working.place(first_in_line.ticket) == (1, 3 - done)
        calls[done].finish()  # frees one slot: the first in line takes it, no one behind it
        first_in_line.wait_started()
        assert [c.ticket.job for c in behind if c.started.is_set()] == []
    for call in calls[3:]:
        call.finish()
    assert [c.error for c in calls] == [None] * 5


def test_the_second_in_line_starts_as_soon_as_the_first_has_when_two_slots_are_free() -> None:
    working = Working(slots=2)
    first, second = _calls(working, "a", "b")
    second.start()
    second.wait_told((2, 2))  # it looked first and found the other ahead of it: it waits for a change
    first.start()
    first.wait_started()
    second.wait_started()  # the first one starting is a change: the second sees the free slot
    first.finish()
    second.finish()
    assert first.error is None and second.error is None


def test_a_queued_call_cancelled_while_two_run_leaves_without_starting() -> None:
    working = Working(slots=2)
    first, second, third = _calls(working, "a", "b", "c")
    for call in (first, second, third):
        call.start()
    first.wait_started()
    second.wait_started()
    third.wait_told((1, 1))

    third.ticket.cancel.set()
    working.wake()
    third.join()
    assert isinstance(third.error, RunCancelled)
    assert not third.started.is_set()
    assert working.place(third.ticket) is None and working.ticket_of("c") is None
    assert first.ticket.running and second.ticket.running  # the cancel touched no running call
    first.finish()
    second.finish()
    working.wait_idle()


def test_ticket_of_finds_every_running_ticket_and_the_waiting_ones() -> None:
    working = Working(slots=2)
    first, second, third = _calls(working, "a", "b", "c")
    for call in (first, second, third):
        call.start()
    first.wait_started()
    second.wait_started()
    third.wait_told((1, 1))
    assert working.ticket_of("a") is first.ticket
    assert working.ticket_of("b") is second.ticket
    assert working.ticket_of("c") is third.ticket
    assert working.ticket_of("z") is None
    for call in (first, second, third):
        call.finish()
    assert working.ticket_of("a") is None


def test_one_slot_runs_one_call_at_a_time() -> None:
    working = Working()
    first, second = _calls(working, "a", "b")
    first.start()
    second.start()
    first.wait_started()
    second.wait_told((1, 1))
    assert not second.started.is_set()
    first.finish()
    second.wait_started()
    second.finish()
    assert first.error is None and second.error is None


@pytest.mark.parametrize("slots", [0, -1])
def test_fewer_than_one_slot_is_refused(slots: int) -> None:
    with pytest.raises(ValueError, match=rf"slots must be at least 1 \(calls that may run at once\), not {slots}"):
        Working(slots=slots)
