"""What to put for a send: the body, the MQMD and the message properties, as MQ or as JMS.

An MQ message carries the data as it is and its properties through a
message handle. A JMS message (``jms=True``, or the connection's
``target_client = "jms"``, MQ's TARGCLIENT) is an MQRFH2 with the ``mcd``,
``jms`` and ``usr`` folders in front of the data, as IBM MQ classes for JMS
write it, so a JMS consumer reads a TextMessage (text and JSON) or a
BytesMessage (bytes) with those properties. Everything is checked before
anything is put.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portway_ibm_mq import jms, rfh2
from portway_ibm_mq.message import (
    CCSID_UTF8,
    ENCODING_NATIVE,
    FMT_NONE,
    MQMD,
    MSGTYPE_DATAGRAM,
    MSGTYPE_REQUEST,
    NOT_PERSISTENT,
    PERSISTENCE_AS_Q_DEF,
    PERSISTENT,
    UNLIMITED,
    encode_body,
    to_id,
)

_PROPERTY_TYPES = (str, bool, int, float, bytes, type(None))


@dataclass(frozen=True)
class Outgoing:
    """One message ready for ``Session.put``."""

    body: bytes
    md: MQMD
    properties: dict[str, Any] = field(default_factory=dict)  # set through a message handle


@dataclass(frozen=True)
class SendOptions:
    """The options of ``MQClient.send`` (see there)."""

    priority: int | None = None
    expiry: float | None = None
    persistence: bool | None = None
    correlation_id: bytes | str | None = None
    message_id: bytes | str | None = None
    reply_to: str | None = None
    reply_to_qmgr: str = ""
    format: str | None = None
    msg_type: int | None = None
    jms_type: str | None = None

    def check(self) -> None:
        if self.priority is not None and not 0 <= self.priority <= 9:
            raise ValueError(f"priority is 0 (lowest) to 9 (highest), got {self.priority}")
        if self.expiry is not None and self.expiry <= 0:
            raise ValueError(f"expiry is a number of seconds above 0, got {self.expiry}")


def compose(
    data: Any, queue: str, properties: Mapping[str, Any], options: SendOptions, *, as_jms: bool, user: str
) -> Outgoing:
    """The message to put on ``queue`` for ``data``; ``ValueError`` naming what is wrong."""
    options.check()
    body, fmt = encode_body(data, options.format)
    md = MQMD(
        msg_id=to_id(options.message_id),
        priority=-1 if options.priority is None else options.priority,
        expiry=UNLIMITED if options.expiry is None else max(1, round(options.expiry * 10)),
        persistence=PERSISTENCE_AS_Q_DEF
        if options.persistence is None
        else (PERSISTENT if options.persistence else NOT_PERSISTENT),
        format=fmt,
        msg_type=options.msg_type
        if options.msg_type is not None
        else (MSGTYPE_REQUEST if options.reply_to else MSGTYPE_DATAGRAM),
        reply_to_q=options.reply_to or "",
        reply_to_q_mgr=options.reply_to_qmgr,
        user_identifier=user,
        put_appl_name="portway",
    )
    if not as_jms:
        for name, value in properties.items():
            if not isinstance(value, _PROPERTY_TYPES):
                raise ValueError(
                    f"message property {name!r}: a {type(value).__name__} value; "
                    "properties are text, numbers, booleans, bytes or None"
                )
        return Outgoing(body, md.with_(correl_id=to_id(options.correlation_id)), dict(properties))
    jms.check_properties(properties)
    correlation = options.correlation_id
    if isinstance(correlation, bytes):
        correlation = jms.message_id(correlation.ljust(24, b"\0"))
    headers = jms.SendHeaders(
        body_type=jms.BYTES if isinstance(data, bytes | bytearray | memoryview) else jms.TEXT,
        destination=jms.queue_uri(queue),
        reply_to=jms.queue_uri(options.reply_to, options.reply_to_qmgr) if options.reply_to else None,
        correlation_id=correlation,
        persistent=options.persistence,
        priority=options.priority,
        expiry_s=options.expiry,
        type=options.jms_type,
    )
    wrapped = rfh2.wrap(
        headers.folders(properties), body, format=fmt or FMT_NONE, coded_char_set_id=CCSID_UTF8
    )
    md = md.with_(
        correl_id=to_id(None) if correlation is None else jms.correl_id(correlation),
        format=rfh2.FMT_RF_HEADER_2,
        encoding=ENCODING_NATIVE,
        coded_char_set_id=CCSID_UTF8,
    )
    return Outgoing(wrapped, md)
