"""The server's worker side: generations run in worker threads, up to ``slots`` at a time (1 for the local
executor), starting in the order the calls came.

:class:`Working` is the server's line: every call (``run``, a task tool, a job) takes a :class:`Ticket`, waits in
its worker thread until it is first in line and fewer than ``slots`` runs are going, then runs. While it waits it
is told its place ("queued: position 2 of 3"); while it runs, "step 5 of 40, about 12 s left", the time left from
the seconds per denoising step measured in this run (from its second step on; at its first, the last rate measured
for the same profile, if any).

:class:`Runs` holds the cancel events of one MCP session's calls. A cancelled call (the client's
``notifications/cancelled``, the session ending, ``cancel_job``) sets its event: a queued call leaves the line
without starting, a running one stops at its next denoising step and removes what it was writing.
:func:`in_worker` waits for the worker thread to stop before the cancellation goes on, so a cancelled call
leaves nothing behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from unison_agent.errors import RunCancelled

__all__ = ["Report", "Runs", "Ticket", "Working", "in_worker"]

T = TypeVar("T")

# Called in the worker thread with (progress, total, message), the fields of an MCP progress notification.
Report = Callable[[float, float | None, str], None]


@dataclass(eq=False)  # tickets are compared by identity: two calls never share a place in line
class Ticket:
    """One call's place in the line and, once it runs, how far it has got.

    ``step``/``steps`` count denoising steps over all the outputs of the run; ``eta_s`` is the estimate of the
    seconds left (None until there is a rate to estimate from)."""

    profile: str
    cancel: threading.Event = field(default_factory=threading.Event)
    job: str | None = None  # the job it runs, if it was started by start_job
    running: bool = False
    step: int = 0
    steps: int = 0
    eta_s: float | None = None
    first_position: int | None = None  # its place when it was first told one (for the progress value)
    anchor: tuple[float, int] | None = None  # (clock, step) at the first step of the output being made
    rate: float | None = None  # seconds per step measured in this run


class Working:
    """The server's line of calls and the runs in worker threads (up to ``slots`` at a time), so that the process
    can also wait for them before it exits: a stopped run ends at its next step and removes what it was writing,
    unless the interpreter is gone first.

    ``clock`` is what step times are measured with (``time.monotonic``; tests give a clock of their own).
    ``slots`` is how many calls may run at once: 1 for the local executor (one GPU, one run), the executor's
    concurrency for one that queues on its own side (a Ray Serve cluster). Raises ValueError when below 1."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1 (calls that may run at once), not {slots}")
        self.clock = clock
        self.slots = slots
        self._changed = threading.Condition()
        self._line: list[Ticket] = []  # waiting, in the order the calls came
        self._running: list[Ticket] = []  # in the order they started
        self._threads = 0  # worker threads in turn(), waiting or running
        self._rates: dict[str, float] = {}  # the last seconds per step measured, by profile

    # ------------------------------------------------------------------------------------------ the line
    def enter(self, ticket: Ticket) -> None:
        """Put ``ticket`` at the end of the line (once; called on the event loop, so the line keeps the calls'
        order whatever order their worker threads start in)."""
        with self._changed:
            if ticket not in self._line and ticket not in self._running:
                self._line.append(ticket)
                self._changed.notify_all()

    def leave(self, ticket: Ticket) -> None:
        """Take ``ticket`` out of the line if it is still waiting (a call cancelled before its thread ran)."""
        with self._changed:
            if ticket in self._line:
                self._line.remove(ticket)
                self._changed.notify_all()

    def wake(self) -> None:
        """Make every waiting thread look again (a cancel event was set)."""
        with self._changed:
            self._changed.notify_all()

    def place(self, ticket: Ticket) -> tuple[int, int] | None:
        """``(k, n)``: ``ticket`` is k-th of the n calls waiting; None when it is not waiting."""
        with self._changed:
            return self._place(ticket)

    def _place(self, ticket: Ticket) -> tuple[int, int] | None:
        if ticket not in self._line:
            return None
        return self._line.index(ticket) + 1, len(self._line)

    @contextmanager
    def turn(self, ticket: Ticket, on_wait: Callable[[int, int], None]) -> Iterator[None]:
        """In the worker thread: wait until ``ticket`` is first in line and a slot is free (fewer than ``slots``
        runs are going), then hold that slot while the block lasts. ``on_wait(k, n)`` is called (outside the
        line's lock) each time its place changes.

        Raises RunCancelled, without running the block, when its cancel event is set before its turn."""
        self.enter(ticket)
        with self._changed:
            self._threads += 1
        try:
            told: tuple[int, int] | None = None
            while True:
                with self._changed:
                    while True:
                        if ticket.cancel.is_set():
                            self._line.remove(ticket)
                            self._changed.notify_all()
                            raise RunCancelled("cancelled before it started")
                        if len(self._running) < self.slots and self._line[0] is ticket:
                            self._line.pop(0)
                            self._running.append(ticket)
                            ticket.running = True
                            # A change like any other: the next in line may take another free slot, and
                            # everyone behind it has a new place to be told.
                            self._changed.notify_all()
                            break
                        where = self._place(ticket)
                        if where != told:
                            break
                        self._changed.wait()
                if ticket.running:
                    break
                assert where is not None
                told = where
                on_wait(*where)  # outside the lock: telling goes through the event loop, which may enter() now
            try:
                yield
            finally:
                with self._changed:
                    self._running.remove(ticket)
                    ticket.running = False
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._threads -= 1
                self._changed.notify_all()

    def wait_idle(self) -> None:
        """Return once no call is in a worker thread."""
        with self._changed:
            self._changed.wait_for(lambda: self._threads == 0)

    def ticket_of(self, job: str) -> Ticket | None:
        """The ticket of job ``job`` while it waits or runs in this server; None otherwise."""
        with self._changed:
            for ticket in [*self._line, *self._running]:
                if ticket.job == job:
                    return ticket
        return None

    # ------------------------------------------------------------------------------------------ progress
    def measure(self, ticket: Ticket, done: int, total: int, output: int, outputs: int) -> None:
        """Record denoising step ``done`` of ``total`` of output ``output`` of ``outputs``: the ticket's
        ``step``/``steps`` (over all outputs) and ``eta_s``. Called once per step, in the worker thread."""
        now = self.clock()
        ticket.step, ticket.steps = (output - 1) * total + done, total * outputs
        if ticket.anchor is None or done <= ticket.anchor[1]:
            # The first step of an output also carries the setup before it (encoding, a first compile, moving
            # weights): rates are measured from its end on.
            ticket.anchor = (now, done)
        else:
            ticket.rate = (now - ticket.anchor[0]) / (done - ticket.anchor[1])
            with self._changed:
                self._rates[ticket.profile] = ticket.rate
        with self._changed:
            rate = ticket.rate if ticket.rate is not None else self._rates.get(ticket.profile)
        ticket.eta_s = None if rate is None else rate * (ticket.steps - ticket.step)


class Runs:
    """The cancel events of one MCP session's calls, running or queued. :meth:`stop` sets every one, and any
    added later: the session is ending, so none of its work may keep the worker (and the process) busy.

    ``wake`` is called after an event is set, so that a call waiting in line sees it (:meth:`Working.wake`)."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._events: set[threading.Event] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._wake = wake

    def add(self, event: threading.Event) -> threading.Event:
        """Track ``event`` (set at once if the session is already stopping); returns it."""
        with self._lock:
            self._events.add(event)
            if self._stopped:
                event.set()
        return event

    def discard(self, event: threading.Event) -> None:
        with self._lock:
            self._events.discard(event)

    def cancel(self, event: threading.Event) -> None:
        """Cancel one call: queued, it never starts; running, it stops at its next step."""
        event.set()
        self._wake()

    def stop(self) -> None:
        """Cancel every call: each running one stops at its next denoising step, a queued one never starts."""
        with self._lock:
            self._stopped = True
            for event in self._events:
                event.set()
        self._wake()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called (the session is ending)."""
        return self._stopped


def _queued(ticket: Ticket, report: Report) -> Callable[[int, int], None]:
    """The ``on_wait`` of :meth:`Working.turn` that tells ``report`` the call's place in line.

    MCP wants the progress value to grow with every notification: while queued it is the share of the line that
    has gone ahead since the call came (0 up to below 1); once running, the denoising steps done (from 1)."""

    def on_wait(k: int, n: int) -> None:
        if ticket.first_position is None:
            ticket.first_position = k
        report((ticket.first_position - k) / ticket.first_position, None, f"queued: position {k} of {n}")

    return on_wait


def _left(seconds: float) -> str:
    return "less than a second left" if seconds < 1 else f"about {seconds:.0f} s left"


async def in_worker(
    work: Callable[[Callable[[dict[str, Any]], None]], T],
    *,
    ticket: Ticket,
    working: Working,
    runs: Runs,
    report: Report | None = None,
) -> T:
    """Run ``work(progress)`` in a worker thread in ``ticket``'s turn (once every call that came before it has
    started, up to ``working.slots`` at a time: 1 for the local executor); ``progress`` takes the run's progress
    events, which update the ticket and go to ``report``.

    When the calling task is cancelled (the client cancelled the call, the session ends), the ticket's cancel
    event is set and this waits for the worker thread to stop (at once when still queued, else at the run's
    next step) before the cancellation goes on: a cancelled call leaves nothing behind.

    Returns what ``work`` returns; raises what it raises, and RunCancelled when the ticket was cancelled before
    its turn."""
    runs.add(ticket.cancel)
    working.enter(ticket)
    on_wait = _queued(ticket, report or _silent)

    def progress(event: dict[str, Any]) -> None:
        if event.get("stage") != "denoise":
            return
        working.measure(ticket, event["done"], event["total"], event.get("output") or 1, event.get("outputs") or 1)
        if report is not None:
            left = "" if ticket.eta_s is None else ", " + _left(ticket.eta_s)
            report(ticket.step, ticket.steps, f"step {ticket.step} of {ticket.steps}{left}")

    def in_thread() -> T:
        with working.turn(ticket, on_wait):
            return work(progress)

    finished = False

    async def stop_when_cancelled() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            if not finished:
                runs.cancel(ticket.cancel)

    value: T | None = None
    error: Exception | None = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(stop_when_cancelled)
            try:
                # Not abandoned on cancellation: the task waits for the thread, which the event stops.
                value = await anyio.to_thread.run_sync(in_thread)
            except Exception as e:  # re-raised below, outside the task group that would wrap it in a group
                error = e
            finished = True
            tg.cancel_scope.cancel()
    finally:
        runs.discard(ticket.cancel)
        working.leave(ticket)
    # A cancelled call must end cancelled even when the thread's value came back first: the SDK has already
    # answered a request its client cancelled, and a second answer ends the session.
    await anyio.lowlevel.checkpoint_if_cancelled()
    if error is not None:
        raise error
    return value  # type: ignore[return-value]  # set whenever no error was raised


def _silent(progress: float, total: float | None, message: str) -> None:
    """A report that tells no one (a job's progress is read from its ticket by ``job_status``)."""
