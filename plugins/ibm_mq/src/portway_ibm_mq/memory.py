"""An in-memory queue manager that behaves like IBM MQ where it matters.

It models local queues with their attributes (BOTHRESH, BOQNAME, MAXDEPTH,
DEFPSIST, DEFPRTY), the queue manager's dead-letter queue (DEADQ), the
message descriptor, priority then FIFO delivery, expiry, and units of work
per connection: a message got under syncpoint is invisible to everyone
else until the connection commits (gone) or backs out (back in its place,
BackoutCount + 1). Like a queue manager with HARDENBO, a backout caused by
a lost connection counts too, so a message that kills its consumer is still
recognised as poison.

Tests and demos reach one by name, ``memory:QM1`` in a connection's
``backend`` setting, and can break every connection (:meth:`sever`), take
the listener down (:meth:`set_available`) or restart the queue manager
(:meth:`restart`: persistent messages survive, non-persistent do not, and
uncommitted gets return to their queues). It lives inside one process.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from portway_ibm_mq import reasons
from portway_ibm_mq.memory_queue import Position, Queue, StoredMessage
from portway_ibm_mq.message import (
    MQMD,
    NONE_ID,
    NOT_PERSISTENT,
    PERSISTENCE_AS_Q_DEF,
    PERSISTENT,
    Message,
    put_stamp,
)
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.session import QueueAttributes

DEFAULT_DEAD_LETTER_QUEUE = "SYSTEM.DEAD.LETTER.QUEUE"


class TruncatedMessage(MQError):
    """2080 MQRC_TRUNCATED_MSG_FAILED: the message did not fit; it is still on the queue."""

    def __init__(self, queue: str, message: Message) -> None:
        super().__init__(reasons.TRUNCATED_MSG_FAILED, "MQGET", queue)
        self.message = message


class MemoryQueueManager:
    """One in-memory queue manager; thread-safe, shared by name in a process."""

    def __init__(
        self, name: str, *, dead_letter_queue: str = DEFAULT_DEAD_LETTER_QUEUE, autodefine: bool = True
    ) -> None:
        self.name = name
        self.dead_letter_queue = dead_letter_queue
        # A development queue manager: a queue named for the first time is defined
        # with default attributes. Set False to get 2085 for unknown queues.
        self.autodefine = autodefine
        # user -> password; None accepts any user (no CONNAUTH).
        self.users: dict[str, str] | None = None
        self._cond = threading.Condition()
        self._queues: dict[str, Queue] = {}
        self._sessions: set[MemorySession] = set()
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._available = True
        if dead_letter_queue:
            self.define_queue(dead_letter_queue, max_depth=999_999_999)

    # administration, as MQSC would do it
    def define_queue(
        self,
        name: str,
        *,
        backout_threshold: int = 0,
        backout_queue: str = "",
        max_depth: int = 5000,
        default_persistence: bool = False,
        default_priority: int = 0,
    ) -> Queue:
        """DEFINE QLOCAL, or ALTER it when it exists (its messages stay)."""
        if not 0 <= default_priority <= 9:
            raise ValueError("default_priority is 0 to 9")
        with self._cond:
            queue = self._queues.get(name)
            if queue is None:
                queue = self._queues[name] = Queue(name)
            queue.backout_threshold = backout_threshold
            queue.backout_queue = backout_queue
            queue.max_depth = max_depth
            queue.default_persistence = default_persistence
            queue.default_priority = default_priority
            return queue

    def delete_queue(self, name: str) -> None:
        with self._cond:
            self._queues.pop(name, None)

    def depth(self, queue: str) -> int:
        with self._cond:
            return self._queue(queue, "MQINQ").depth

    def messages(self, queue: str) -> list[Message]:
        """Browse: the visible messages in delivery order, left on the queue."""
        now = time.monotonic()
        with self._cond:
            return [s.as_message(now) for s in self._queue(queue, "MQGET").visible(now)]

    def committed_gets(self, queue: str) -> list[bytes]:
        """MsgIds of every message a committed get removed from ``queue``, in order."""
        with self._cond:
            return list(self._queue(queue, "MQINQ").committed_gets)

    def connection_count(self) -> int:
        with self._cond:
            return len(self._sessions)

    # faults, for tests and demos
    def sever(self) -> None:
        """Drop every connection as a network failure would.

        Their uncommitted work is backed out; their next call raises 2009.
        """
        with self._cond:
            for session in list(self._sessions):
                session._break()
            self._sessions.clear()
            self._cond.notify_all()

    def set_available(self, available: bool) -> None:
        """While unavailable, connecting raises 2538 (MQRC_HOST_NOT_AVAILABLE)."""
        with self._cond:
            self._available = available

    def restart(self) -> None:
        """Stop and start: connections break, only persistent messages remain."""
        with self._cond:
            self.sever()
            for queue in self._queues.values():
                queue.keep_persistent()

    # the MQI
    def connect(self, queue_manager: str = "", user: str = "", password: str = "") -> MemorySession:
        """MQCONNX: a new connection with its own unit of work."""
        with self._cond:
            if not self._available:
                raise MQError(reasons.HOST_NOT_AVAILABLE, "MQCONNX")
            if queue_manager and queue_manager != self.name:
                raise MQError(reasons.Q_MGR_NOT_AVAILABLE, "MQCONNX")
            if self.users is not None and self.users.get(user) != password:
                raise MQError(reasons.NOT_AUTHORIZED, "MQCONNX")
            session = MemorySession(self)
            self._sessions.add(session)
            return session

    def _queue(self, name: str, operation: str) -> Queue:
        queue = self._queues.get(name)
        if queue is None:
            if not self.autodefine or not name:
                raise MQError(reasons.UNKNOWN_OBJECT_NAME, operation, name)
            queue = self._queues[name] = Queue(name)
        return queue

    def _new_msg_id(self) -> bytes:
        return b"AMQ " + self.name.encode()[:12].ljust(12) + next(self._ids).to_bytes(8, "big")


class MemorySession:
    """One connection to a :class:`MemoryQueueManager` (see ``session.Session``)."""

    def __init__(self, manager: MemoryQueueManager) -> None:
        self._manager = manager
        self._cond = manager._cond
        self._gets: list[tuple[Queue, StoredMessage]] = []
        self._puts: list[tuple[Queue, StoredMessage]] = []
        self._state = "open"

    def put(
        self, queue: str, body: bytes, md: MQMD, properties: Mapping[str, Any], *, syncpoint: bool
    ) -> MQMD:
        manager = self._manager
        with self._cond:
            self._check("MQPUT")
            target = manager._queue(queue, "MQPUT")
            if target.depth >= target.max_depth:
                raise MQError(reasons.Q_FULL, "MQPUT", queue)
            if not -1 <= md.priority <= 9:
                raise MQError(2050, "MQPUT", queue)  # MQRC_PRIORITY_ERROR
            persistence = md.persistence
            if persistence == PERSISTENCE_AS_Q_DEF:
                persistence = PERSISTENT if target.default_persistence else NOT_PERSISTENT
            date, stamp = put_stamp()
            final = md.with_(
                msg_id=manager._new_msg_id() if md.msg_id == NONE_ID else md.msg_id,
                persistence=persistence,
                priority=target.default_priority if md.priority < 0 else md.priority,
                # A descriptor that carries its put time keeps it, as MQPMO_PASS_ALL_CONTEXT does.
                put_date=md.put_date or date,
                put_time=md.put_time or stamp,
                backout_count=0,
            )
            expires = time.monotonic() + md.expiry / 10 if md.expiry > 0 else None
            stored = StoredMessage(next(manager._seq), bytes(body), final, dict(properties), expires)
            if syncpoint:
                target.pending += 1
                self._puts.append((target, stored))
            else:
                target.push(stored)
                self._cond.notify_all()
            # As MQPUT: MsgId and the context come back; Priority and Persistence are input only.
            return final.with_(priority=md.priority, persistence=md.persistence)

    def get(
        self,
        queue: str,
        *,
        wait_ms: int,
        syncpoint: bool,
        msg_id: bytes | None = None,
        correl_id: bytes | None = None,
        fits: Callable[[Message], bool] | None = None,
    ) -> Message:
        """MQGET (see ``session.Session``).

        ``fits`` is MQGET's buffer: a message it refuses stays on the queue
        and :class:`TruncatedMessage` (2080) carries it to the caller.
        """
        deadline = time.monotonic() + max(0, wait_ms) / 1000
        with self._cond:
            while True:
                self._check("MQGET")
                source = self._manager._queue(queue, "MQGET")
                now = time.monotonic()
                stored = source.first(msg_id, correl_id, now)
                if stored is not None:
                    break
                if now >= deadline:
                    raise MQError(reasons.NO_MSG_AVAILABLE, "MQGET", queue)
                self._cond.wait(deadline - now)
            message = stored.as_message(now)
            if fits is not None and not fits(message):
                raise TruncatedMessage(queue, message)
            source.remove(stored)
            if syncpoint:
                source.locked += 1
                self._gets.append((source, stored))
            else:
                source.committed_gets.append(stored.md.msg_id)
            return message

    def browse_next(self, queue: str, after: Position | None) -> tuple[Message, Position]:
        """MQGET with BROWSE_FIRST (``after`` None) or BROWSE_NEXT: the message past the cursor.

        Returns it with the new cursor; raises 2033 at the end of the queue.
        """
        with self._cond:
            self._check("MQGET")
            now = time.monotonic()
            stored = self._manager._queue(queue, "MQGET").after(after, now)
            if stored is None:
                raise MQError(reasons.NO_MSG_AVAILABLE, "MQGET", queue)
            return stored.as_message(now), stored.position()

    def browse(self, queue: str, limit: int) -> list[Message]:
        found: list[Message] = []
        cursor: Position | None = None
        while len(found) < limit:
            try:
                message, cursor = self.browse_next(queue, cursor)
            except MQError as exc:
                if exc.reason != reasons.NO_MSG_AVAILABLE:
                    raise
                break
            found.append(message)
        return found

    def depth(self, queue: str) -> int:
        with self._cond:
            self._check("MQINQ")
            return self._manager._queue(queue, "MQINQ").depth

    def commit(self) -> None:
        with self._cond:
            self._check("MQCMIT")
            for queue, stored in self._gets:
                queue.locked -= 1
                queue.committed_gets.append(stored.md.msg_id)
            for queue, stored in self._puts:
                queue.pending -= 1
                queue.push(stored)
            if self._puts:
                self._cond.notify_all()
            self._gets.clear()
            self._puts.clear()

    def backout(self) -> None:
        with self._cond:
            self._check("MQBACK")
            self._undo()

    def queue_manager_name(self) -> str:
        with self._cond:
            self._check("MQINQ")
            return self._manager.name

    def queue_attributes(self, queue: str) -> QueueAttributes:
        with self._cond:
            self._check("MQINQ")
            found = self._manager._queue(queue, "MQINQ")
            return QueueAttributes(found.backout_threshold, found.backout_queue)

    def dead_letter_queue(self) -> str:
        with self._cond:
            self._check("MQINQ")
            return self._manager.dead_letter_queue

    def close(self) -> None:
        with self._cond:
            if self._state == "open":
                self._undo()
                self._manager._sessions.discard(self)
            self._state = "closed"

    def _undo(self) -> None:
        for queue, stored in self._gets:
            queue.locked -= 1
            stored.backout_count += 1
            queue.push(stored)  # same sequence number: back in its place
        for queue, _stored in self._puts:
            queue.pending -= 1
        if self._gets:
            self._cond.notify_all()
        self._gets.clear()
        self._puts.clear()

    def _break(self) -> None:
        if self._state == "open":
            self._undo()
            self._state = "broken"

    def _check(self, operation: str) -> None:
        if self._state == "open":
            return
        code = reasons.CONNECTION_BROKEN if self._state == "broken" else reasons.HCONN_ERROR
        raise MQError(code, operation)


_registry: dict[str, MemoryQueueManager] = {}
_registry_lock = threading.Lock()


def queue_manager(name: str) -> MemoryQueueManager:
    """The process's in-memory queue manager called ``name``, made on first use."""
    with _registry_lock:
        found = _registry.get(name)
        if found is None:
            found = _registry[name] = MemoryQueueManager(name)
        return found


def forget(name: str) -> None:
    """Remove a queue manager from the registry (tests start afresh with it)."""
    with _registry_lock:
        manager = _registry.pop(name, None)
    if manager is not None:
        manager.sever()
