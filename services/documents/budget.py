"""A memory budget for uploads: how many bytes of files one replica may hold at once.

Files are held in memory while they are checked and stored (about three times their size
at the peak), so twenty 10 MB uploads at once would take 400 MB or more, past a container's
limit. Each upload reserves its share before its body is read; when the budget is spent it waits
a little, then is refused with 429 and `Retry-After` (the page retries by itself). The whole
share is reserved at once: uploads holding half a share each while waiting for the other
half would wait for each other forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from services.kit.problems import TooManyRequests

RETRY_AFTER_SECONDS = 5


class UploadsBusy(TooManyRequests):
    """Too many uploads in progress on this replica; try again shortly."""

    slug = "uploads-busy"
    title = "Uploads busy"


class MemoryBudget:
    """Bytes reserved by uploads in progress, never more than `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.reserved = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, size: int, *, wait: float) -> AsyncIterator[None]:
        """Reserve `size` bytes (at most the capacity) for the block, waiting up to `wait` s."""
        size = min(size, self.capacity)

        def fits() -> bool:
            return self.reserved + size <= self.capacity

        async with self._changed:
            if not fits():
                try:
                    await asyncio.wait_for(self._changed.wait_for(fits), wait)
                except TimeoutError:
                    raise UploadsBusy(
                        "Beaucoup d'envois sont en cours : réessayez dans quelques secondes.",
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                    ) from None
            self.reserved += size
        try:
            yield
        finally:
            async with self._changed:
                self.reserved -= size
                self._changed.notify_all()
