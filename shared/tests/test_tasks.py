"""cancel_and_wait ends tasks that swallow a cancel, as 3.11's wait_for can."""

from __future__ import annotations

import asyncio

from switchyard.shared.tasks import cancel_and_wait


async def test_a_task_that_swallows_the_first_cancel_still_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # what wait_for does when its wait completes as the cancel lands

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait(task, None)
    assert task.cancelled() and swallowed == 1


async def test_failed_and_finished_tasks_are_taken_without_raising() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    failed = asyncio.create_task(fails())
    finished = asyncio.create_task(asyncio.sleep(0))
    await asyncio.sleep(0.01)
    await cancel_and_wait(failed, finished)
    assert failed.done() and finished.done()
