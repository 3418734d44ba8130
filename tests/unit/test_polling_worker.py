"""The polling-worker base shared by the outbox sender and the deadline worker.

No test sleeps to let something happen: each waits for a condition, with a deadline long
enough for a loaded 2-core machine, and asserts the outcome.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from hanoi247.adapters.clocks_worker import DeadlineWorker, RoundReport
from hanoi247.adapters.federation.sender import OutboxSender
from hanoi247.adapters.polling import PollingWorker

DEADLINE_SECONDS = 30.0
HOUR = 3600.0  # a poll interval that never elapses in a test: only notify() wakes


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout=DEADLINE_SECONDS)


class Recorder(PollingWorker):
    """Counts rounds; a round can be held open, made to fail, or report more work."""

    name = "test-worker"

    def __init__(self) -> None:
        super().__init__(poll_interval=HOUR, stop_timeout=DEADLINE_SECONDS)
        self.started_rounds = 0
        self.release = threading.Event()
        self.release.set()
        self.fail_next = False
        self.more_rounds = 0

    async def _round(self) -> bool:
        self.started_rounds += 1
        while not self.release.is_set():
            await asyncio.sleep(0.005)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("this round fails")
        if self.more_rounds:
            self.more_rounds -= 1
            return True
        return False


def test_the_outbox_sender_and_the_deadline_worker_share_the_base() -> None:
    assert issubclass(OutboxSender, PollingWorker)
    assert issubclass(DeadlineWorker, PollingWorker)
    for worker in (OutboxSender, DeadlineWorker):
        own = {"start", "stop", "notify", "_run", "_bind"} & set(vars(worker))
        assert own == set(), f"{worker.__name__} overrides the base's loop: {own}"


def test_notify_when_the_loop_closes_between_the_check_and_the_call_does_not_raise() -> None:
    """The shutdown race, made deterministic: ``is_closed()`` still says open, but the
    loop is closed when ``call_soon_threadsafe`` runs (it raises ``RuntimeError``)."""
    worker = Recorder()
    loop = asyncio.new_event_loop()
    loop.close()
    loop.is_closed = lambda: False  # type: ignore[method-assign]
    worker._loop = loop
    try:
        with pytest.raises(RuntimeError):
            loop.call_soon_threadsafe(lambda: None)  # what an unguarded notify() would hit
        worker.notify()  # must not raise
    finally:
        del loop.is_closed  # the loop's own again, for its finaliser


def test_notify_from_another_thread_while_the_loop_shuts_down_never_raises() -> None:
    worker = Recorder()
    errors: list[BaseException] = []
    done = threading.Event()
    notified = threading.Event()

    def hammer() -> None:
        try:
            while not done.is_set():
                worker.notify()
                notified.set()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    async def scenario() -> None:
        await worker.start()
        thread.start()
        await until(notified.is_set)
        await until(lambda: worker.rounds >= 2)  # the thread's wake-ups run rounds
        await worker.stop()

    thread = threading.Thread(target=hammer, daemon=True)
    asyncio.run(scenario())  # closes the loop while the thread keeps notifying
    notified.clear()
    assert notified.wait(DEADLINE_SECONDS)  # it notified again after the loop closed
    done.set()
    thread.join(DEADLINE_SECONDS)
    assert not thread.is_alive()
    assert errors == []


def test_a_notify_during_a_round_runs_another_round() -> None:
    worker = Recorder()

    async def scenario() -> None:
        worker.release.clear()
        await worker.start()
        await until(lambda: worker.started_rounds == 1)  # the first round is held open
        worker.notify()  # something was queued while the round ran
        worker.release.set()
        await until(lambda: worker.started_rounds == 2)  # woken at once, not in an hour
        await until(lambda: worker.rounds == 2)
        await worker.stop()

    asyncio.run(scenario())
    assert worker.started_rounds == 2


def test_a_failing_round_does_not_end_the_worker() -> None:
    worker = Recorder()

    async def scenario() -> None:
        worker.fail_next = True
        await worker.start()
        await until(lambda: worker.rounds == 1)
        worker.notify()
        await until(lambda: worker.rounds == 2)
        await worker.stop()

    asyncio.run(scenario())


def test_a_round_reporting_more_work_is_followed_at_once() -> None:
    worker = Recorder()

    async def scenario() -> None:
        worker.more_rounds = 3
        await worker.start()
        await until(lambda: worker.rounds == 4)  # 3 busy rounds, then one that finds none
        await worker.stop()

    asyncio.run(scenario())


def test_stop_waits_for_the_round_in_progress_and_start_works_in_a_new_loop() -> None:
    worker = Recorder()

    async def first() -> None:
        worker.release.clear()
        await worker.start()
        await until(lambda: worker.started_rounds == 1)
        stopping = asyncio.create_task(worker.stop())
        await asyncio.sleep(0)
        assert not stopping.done()  # the round is still running
        worker.release.set()
        await stopping
        assert worker.rounds == 1

    async def second() -> None:
        await worker.start()  # another loop: the wake-up event is made afresh
        await until(lambda: worker.rounds == 2)
        worker.notify()
        await until(lambda: worker.rounds == 3)
        await worker.stop()

    asyncio.run(first())
    asyncio.run(second())


def test_the_deadline_worker_goes_on_at_once_when_a_round_hit_its_batch_limit() -> None:
    reports = [RoundReport(missed=100, more_due=True), RoundReport(missed=3)]

    class Busy(DeadlineWorker):
        async def run_once(self, now: datetime | None = None) -> RoundReport:
            return reports.pop(0)

    nothing: Any = None  # the overridden round touches no collaborator
    worker = Busy(check=nothing, clock=nothing, node=nothing, delivery=nothing, poll_interval=HOUR)

    async def scenario() -> None:
        await worker.start()
        await until(lambda: worker.rounds == 2)  # the second round did not wait an hour
        await worker.stop()

    asyncio.run(scenario())
    assert reports == []
