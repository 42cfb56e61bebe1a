"""The memory budget on its own: an upload trading its share for a larger one (to decode an
image) holds nothing while it waits, and new uploads wait behind it."""

from __future__ import annotations

import asyncio

import pytest

from services.documents.budget import MemoryBudget, UploadsBusy


async def test_a_trade_waits_holding_nothing_and_newcomers_wait_behind_it() -> None:
    budget = MemoryBudget(100)
    decoded = asyncio.Event()

    async def decoding() -> None:
        async with budget.hold(60, wait=1):
            await decoded.wait()

    first = asyncio.create_task(decoding())
    await asyncio.sleep(0)
    async with budget.hold(30, wait=1) as second:
        trade = asyncio.create_task(second.resize(90, wait=2))
        await asyncio.sleep(0.05)
        # Its 30 given back while it waits for 90: it blocks nobody it waits for.
        assert budget.reserved == 60
        with pytest.raises(UploadsBusy):
            # Room for 10, but the upload waiting to trade goes first.
            async with budget.hold(10, wait=0.1):
                pass
        decoded.set()
        await trade
        assert (second.size, budget.reserved) == (90, 90)
    await first
    assert budget.reserved == 0


async def test_two_uploads_trading_for_more_than_the_budget_each_get_it_in_turn() -> None:
    budget = MemoryBudget(100)
    order: list[str] = []

    async def upload(name: str) -> None:
        async with budget.hold(30, wait=1) as reservation:
            await asyncio.sleep(0.01)
            await reservation.resize(1_000, wait=1)  # capped at the budget: checked alone
            order.append(name)
            assert budget.reserved == 100
            await asyncio.sleep(0.05)

    await asyncio.gather(upload("a"), upload("b"))

    assert sorted(order) == ["a", "b"]
    assert budget.reserved == 0
