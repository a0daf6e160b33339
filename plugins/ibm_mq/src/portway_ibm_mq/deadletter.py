"""The dead-letter header (MQDLH) put in front of a message sent to a DLQ.

Laid out as MQ lays out ``MQDLH`` version 1 (172 bytes, native encoding),
so MQ tools such as ``runmqdlq`` read what portway puts on a real
dead-letter queue; the message's own Format, Encoding and CCSID move into
the header and the descriptor says ``MQDEAD``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from portway_ibm_mq.message import FMT_DEAD_LETTER_HEADER, MQMD, Message, put_stamp

_LAYOUT = struct.Struct("<4sll48s48sll8sl28s8s8s")
LENGTH = _LAYOUT.size  # 172, MQDLH_LENGTH_1


@dataclass(frozen=True)
class DeadLetterHeader:
    """Why a message is on the dead-letter queue and where it was going."""

    reason: int
    dest_q_name: str
    dest_q_mgr_name: str
    encoding: int
    coded_char_set_id: int
    format: str
    put_appl_name: str = "portway"
    put_appl_type: int = 6  # MQAT_DEFAULT
    put_date: str = ""
    put_time: str = ""


def wrap(message: Message, reason: int, queue: str, queue_manager: str) -> tuple[bytes, MQMD]:
    """Body and descriptor to put on the DLQ: MQDLH + original body; MQMD kept."""
    date, stamp = put_stamp()
    header = _LAYOUT.pack(
        b"DLH ",
        1,
        reason,
        _text(queue, 48),
        _text(queue_manager, 48),
        message.md.encoding,
        message.md.coded_char_set_id,
        _text(message.md.format, 8),
        6,  # PutApplType MQAT_DEFAULT
        _text("portway", 28),
        date.encode(),
        stamp.encode(),
    )
    return header + message.body, message.md.with_(format=FMT_DEAD_LETTER_HEADER)


def unwrap(body: bytes) -> tuple[DeadLetterHeader, bytes]:
    """Split a dead-lettered body into its header and the original body."""
    if len(body) < LENGTH or body[:4] != b"DLH ":
        raise ValueError("not a dead-letter message: it does not start with an MQDLH")
    fields = _LAYOUT.unpack_from(body)
    header = DeadLetterHeader(
        reason=fields[2],
        dest_q_name=_untext(fields[3]),
        dest_q_mgr_name=_untext(fields[4]),
        encoding=fields[5],
        coded_char_set_id=fields[6],
        format=_untext(fields[7]),
        put_appl_type=fields[8],
        put_appl_name=_untext(fields[9]),
        put_date=_untext(fields[10]),
        put_time=_untext(fields[11]),
    )
    return header, body[LENGTH:]


def _text(value: str, size: int) -> bytes:
    return value.encode()[:size].ljust(size)


def _untext(value: bytes) -> str:
    return value.decode().rstrip(" \0")
