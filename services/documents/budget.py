"""A memory budget for uploads: how many bytes of files one replica may hold at once.

Files are held in memory while they are checked and stored (about three times their size
at the peak), so twenty 10 MB uploads at once would take 400 MB or more, past a container's
limit. Each upload reserves its share before its body is read; when the budget is spent it waits
a little, then is refused with 429 and `Retry-After` (the page retries by itself). The whole
share is reserved at once: uploads holding half a share each while waiting for the other
half would wait for each other forever.

Images change the share once the body is read: what decoding one takes (288 MB for a 105 KB
PNG of 6000×6000 pixels) is only known from its header. The upload then trades its share for
the new one (`Reservation.resize`): it gives the old one back and waits for the whole new
one, so it never holds a part while waiting for the rest. While an upload waits to trade,
no new upload starts reading: what the waiting ones hold in hand (their files, a third of the
shares they gave back) stays a small excess, and they are not overtaken by newcomers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from services.kit.problems import TooManyRequests

RETRY_AFTER_SECONDS = 5


class UploadsBusy(TooManyRequests):
    """Too many uploads in progress on this replica; try again shortly."""

    slug = "uploads-busy"
    title = "Uploads busy"


def _busy() -> UploadsBusy:
    return UploadsBusy(
        "Beaucoup d'envois sont en cours : réessayez dans quelques secondes.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class MemoryBudget:
    """Bytes reserved by uploads in progress, never more than `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.reserved = 0
        self.trading = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, size: int, *, wait: float) -> AsyncIterator[Reservation]:
        """Reserve `size` bytes (at most the capacity) for the block, waiting up to `wait` s."""
        reservation = Reservation(self)
        size = min(size, self.capacity)
        async with self._changed:
            # Uploads waiting to trade their share go first (see the module's docstring).
            await self._wait(
                lambda: not self.trading and self.reserved + size <= self.capacity, wait
            )
            self.reserved += size
            reservation.size = size
        try:
            yield reservation
        finally:
            async with self._changed:
                self.reserved -= reservation.size
                reservation.size = 0
                self._changed.notify_all()

    async def _trade(self, reservation: Reservation, size: int, *, wait: float) -> None:
        size = min(size, self.capacity)
        async with self._changed:
            self.reserved -= reservation.size
            reservation.size = 0
            self.trading += 1
            self._changed.notify_all()
            try:
                await self._wait(lambda: self.reserved + size <= self.capacity, wait)
            finally:
                self.trading -= 1
                self._changed.notify_all()
            self.reserved += size
            reservation.size = size

    async def _wait(self, fits: Callable[[], bool], wait: float) -> None:
        if fits():
            return
        try:
            await asyncio.wait_for(self._changed.wait_for(fits), wait)
        except TimeoutError:
            raise _busy() from None


class Reservation:
    """The bytes one upload holds in the budget."""

    def __init__(self, budget: MemoryBudget) -> None:
        self.budget = budget
        self.size = 0

    async def resize(self, size: int, *, wait: float) -> None:
        """Trade this reservation for one of `size` bytes (at most the capacity), waiting up
        to `wait` s; after a 429 it holds nothing."""
        await self.budget._trade(self, size, wait=wait)
