"""Reading a taken group's files ahead, together: one round trip for a group on a remote folder,
and reads that stay in the CPU caches on a local one.

Only files the service gets as bytes are read ahead (not above
``stream_above_bytes``, not under the ``rename`` read lock, which reads the
file under its in-progress name), and no more than :data:`BUDGET_BYTES` of
them at once. A file that cannot be read ahead is read again when its turn
comes, so its error is reported the usual way.
"""

from __future__ import annotations

from portway.pickup.handling import Work
from portway.pickup.settings import PickupSettings
from portway.pickup.source import Source

BUDGET_BYTES = 8 * 1024 * 1024  # contents held in memory ahead of their services, per channel


def prefetched(source: Source, works: list[Work], settings: PickupSettings) -> list[Work]:
    """``works`` with the content of those that will run read ahead in one batch."""
    batch = getattr(source, "read_many", None)
    if batch is None or settings.read_lock == "rename":
        return works
    wanted: list[int] = []
    budget = BUDGET_BYTES
    for index, work in enumerate(works):
        size = work.entry.size
        if work.action != "run" or work.content is not None or size > settings.stream_above_bytes:
            continue
        if size > budget:
            break
        budget -= size
        wanted.append(index)
    if len(wanted) < 2:
        return works
    try:
        contents: list[bytes | Exception] = batch([works[i].entry.path for i in wanted])
    except Exception:  # the connection broke twice: each file is read, and fails, at its turn
        return works
    ahead = list(works)
    for index, content in zip(wanted, contents, strict=True):
        # Only a whole file: a short answer (or a changed file) is read again at its turn.
        if isinstance(content, bytes) and len(content) == works[index].entry.size:
            work = works[index]  # built anew, not _replace()d: that costs four times as much
            ahead[index] = Work(work.entry, work.relpath, work.key, work.action, content, work.marker)
    return ahead
