"""An async service: `async def handle` runs on the server's event loop.

portway invoke ENV demo.clock
"""

import asyncio
from datetime import UTC, datetime

from portway import Service


class Clock(Service):
    name = "demo.clock"

    async def handle(self) -> None:
        await asyncio.sleep(0)  # anything awaitable: an HTTP call, a database query...
        self.response.payload = {"utc": datetime.now(UTC).isoformat(timespec="seconds")}
