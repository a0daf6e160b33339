"""The small protocol both backends implement: one connection to a queue manager.

A :class:`Session` is an MQ connection (an ``hconn``) with its own unit of
work: what it gets or puts under syncpoint stays invisible to others until
:meth:`Session.commit`, and :meth:`Session.backout` returns got messages to
their queue with their BackoutCount raised by one. A session is used by one
thread at a time. ``memory`` and ``native`` implement it; ``backend`` picks
one from the settings. This module imports neither, so each layer only
imports the ones below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from portway_ibm_mq.message import MQMD, Message


@dataclass(frozen=True)
class QueueAttributes:
    """The attributes of a local queue that a consumer needs."""

    backout_threshold: int  # BOTHRESH; 0 means none
    backout_queue: str  # BOQNAME; "" means none


class Session(Protocol):
    """One connection to a queue manager. Failures raise ``MQError``."""

    def put(
        self, queue: str, body: bytes, md: MQMD, properties: Mapping[str, Any], *, syncpoint: bool
    ) -> MQMD:
        """MQPUT; return the descriptor as put (MsgId, PutDate... filled in)."""
        ...

    def get(
        self,
        queue: str,
        *,
        wait_ms: int,
        syncpoint: bool,
        msg_id: bytes | None = None,
        correl_id: bytes | None = None,
    ) -> Message:
        """MQGET, waiting up to ``wait_ms``; raises ``MQError`` 2033 when none came."""
        ...

    def browse(self, queue: str, limit: int) -> list[Message]:
        """MQGET with BROWSE_FIRST, then BROWSE_NEXT: up to ``limit`` messages, none removed."""
        ...

    def depth(self, queue: str) -> int:
        """MQINQ of CURDEPTH: messages on the queue, counting those in units of work."""
        ...

    def commit(self) -> None:
        """MQCMIT: make this session's gets and puts under syncpoint final."""
        ...

    def backout(self) -> None:
        """MQBACK: undo them; got messages return with BackoutCount + 1."""
        ...

    def queue_manager_name(self) -> str:
        """MQINQ of the queue manager's name."""
        ...

    def queue_attributes(self, queue: str) -> QueueAttributes:
        """MQINQ of BOTHRESH and BOQNAME."""
        ...

    def dead_letter_queue(self) -> str:
        """MQINQ of the queue manager's DEADQ; "" when it has none."""
        ...

    def close(self) -> None:
        """Back out anything uncommitted and disconnect."""
        ...
