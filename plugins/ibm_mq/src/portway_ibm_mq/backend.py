"""The small protocol both backends implement, and picking one from settings.

A :class:`Session` is one connection to a queue manager (an MQ ``hconn``)
with its own unit of work: what it gets or puts under syncpoint stays
invisible to others until :meth:`Session.commit`, and :meth:`Session.backout`
returns got messages to their queue with their BackoutCount raised by one.
A session is used by one thread at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from portway_ibm_mq.message import MQMD, Message

if TYPE_CHECKING:
    from portway_ibm_mq.settings import MQConnectionSettings


@dataclass(frozen=True)
class QueueAttributes:
    """The attributes of a local queue that a consumer needs."""

    backout_threshold: int  # BOTHRESH; 0 means none
    backout_queue: str  # BOQNAME; "" means none


class Session(Protocol):
    """One connection to a queue manager. Failures raise ``MQError``."""

    def put(
        self, queue: str, body: bytes, md: MQMD, properties: Mapping[str, str], *, syncpoint: bool
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


MEMORY_PREFIX = "memory:"


def open_session(settings: MQConnectionSettings) -> Session:
    """Connect with the backend the settings name."""
    if settings.backend.startswith(MEMORY_PREFIX):
        from portway_ibm_mq import memory

        manager = memory.queue_manager(settings.backend[len(MEMORY_PREFIX) :])
        password = settings.password.get_secret_value() if settings.password else ""
        return manager.connect(settings.queue_manager, settings.user, password)
    from portway_ibm_mq import native

    return native.connect(settings)
