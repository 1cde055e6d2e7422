"""EventBroker ordering, gap fill and slow-client handling (no HTTP, no database)."""

from __future__ import annotations

import asyncio

from rtcc_console.server.broker import EventBroker, EventRecord


def rec(i: int) -> EventRecord:
    return EventRecord(i, "call.created", f'{{"n": {i}}}')


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_out_of_order_offers_are_delivered_in_order_once() -> None:
    async def main() -> list[int]:
        broker = EventBroker(queue_size=100, gap_loader=lambda a, b: asyncio.sleep(0, []))  # type: ignore[arg-type,return-value]
        broker.start(asyncio.get_running_loop(), 0)
        sub = broker.subscribe()
        for i in (2, 1, 3, 3, 1):
            broker.offer(rec(i))
        await asyncio.sleep(0.01)
        batch = await sub.next_batch()
        return [r.id for r in batch or []]

    assert run(main()) == [1, 2, 3]


def test_gap_is_filled_from_loader_and_missing_ids_skipped() -> None:
    loaded: list[tuple[int, int]] = []

    async def loader(after: int, upto: int) -> list[EventRecord]:
        loaded.append((after, upto))
        return [rec(2), rec(3)]  # id 1 never committed (rolled back); 2 and 3 exist

    async def main() -> list[int]:
        broker = EventBroker(queue_size=100, gap_loader=loader, gap_wait_s=0.01)
        broker.start(asyncio.get_running_loop(), 0)
        sub = broker.subscribe()
        broker.offer(3)  # only the id is known (another process's NOTIFY)
        broker.offer(rec(4))
        await asyncio.sleep(0.2)
        got: list[int] = []
        while sub.items:
            got.extend(r.id for r in (await sub.next_batch()) or [])
        return got

    assert run(main()) == [2, 3, 4]
    assert loaded and loaded[0][0] == 0


def test_slow_subscriber_is_dropped_without_blocking_others() -> None:
    async def main() -> tuple[object, list[int], int]:
        broker = EventBroker(queue_size=10, gap_loader=lambda a, b: asyncio.sleep(0, []))  # type: ignore[arg-type,return-value]
        broker.start(asyncio.get_running_loop(), 0)
        slow, fast = broker.subscribe(), broker.subscribe()
        got: list[int] = []
        for i in range(1, 31):
            broker.offer(rec(i))
            await asyncio.sleep(0)
            got.extend(r.id for r in (await fast.next_batch()) or [])
        return await slow.next_batch(), got, broker.dropped_subscribers

    slow_batch, fast_got, dropped = run(main())  # type: ignore[misc]
    assert slow_batch is None  # overflowed: the stream ends, the client resumes by id
    assert fast_got == list(range(1, 31))
    assert dropped == 1


def test_close_all_ends_streams() -> None:
    async def main() -> object:
        broker = EventBroker(queue_size=10, gap_loader=lambda a, b: asyncio.sleep(0, []))  # type: ignore[arg-type,return-value]
        broker.start(asyncio.get_running_loop(), 5)
        sub = broker.subscribe()
        broker.close_all()
        return await asyncio.wait_for(sub.next_batch(), 2)

    assert run(main()) is None
