"""JMS on IBM MQ: what a JMS producer's message says, and writing one a JMS consumer reads.

IBM MQ classes for JMS carry a JMS message as an MQMD, an MQRFH2 with the
``mcd`` folder (``Msd``: ``jms_text``, ``jms_bytes``...), the ``jms`` folder
(``Dst``, ``Rto``, ``Tms``, ``Exp``, ``Cid``, ``Dlv``, ``Pri``...) and the
``usr`` folder (the application's properties), then the body. The mapping
follows IBM's tables "Mapping IBM MQ fields onto JMS fields" (incoming) and
"Mapping JMS header fields at send()" (outgoing): a header found in the
MQRFH2 wins over the MQMD field it shadows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from portway_ibm_mq import folders
from portway_ibm_mq.message import MQMD, NONE_ID, PERSISTENT

TEXT = "jms_text"
BYTES = "jms_bytes"
NON_PERSISTENT_MODE = 1  # javax.jms.DeliveryMode
PERSISTENT_MODE = 2
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = {"NULL", "TRUE", "FALSE", "NOT", "AND", "OR", "BETWEEN", "LIKE", "IN", "IS", "ESCAPE"}
_LONG = 2**63


class JMSPropertyError(ValueError):
    """A property JMS cannot carry; the message names it and says why."""


@dataclass(frozen=True)
class JMSHeaders:
    """The JMS header fields of a message, as a JMS consumer would see them."""

    message_id: str
    correlation_id: str | None
    destination: str | None
    reply_to: str | None
    delivery_mode: int  # 1 NON_PERSISTENT, 2 PERSISTENT
    priority: int
    timestamp: int | None  # ms since the epoch
    expiration: int  # ms since the epoch; 0: never
    type: str | None
    body_type: str  # mcd Msd: jms_text, jms_bytes, jms_map, jms_stream, jms_object, jms_none; "" if none
    redelivered: bool
    delivery_count: int  # JMSXDeliveryCount

    def as_headers(self) -> dict[str, str]:
        """The fields under their JMS names, as text; absent ones left out."""
        fields = {
            "JMSMessageID": self.message_id,
            "JMSCorrelationID": self.correlation_id,
            "JMSDestination": self.destination,
            "JMSReplyTo": self.reply_to,
            "JMSDeliveryMode": str(self.delivery_mode),
            "JMSPriority": str(self.priority),
            "JMSTimestamp": None if self.timestamp is None else str(self.timestamp),
            "JMSExpiration": str(self.expiration),
            "JMSType": self.type,
            "JMSRedelivered": "true" if self.redelivered else "false",
            "JMSXDeliveryCount": str(self.delivery_count),
        }
        return {name: value for name, value in fields.items() if value is not None}


def message_id(msg_id: bytes) -> str:
    """A MsgId as a JMSMessageID: ``ID:`` and 48 hex digits."""
    return "ID:" + msg_id.hex()


def correl_id(text: str | bytes) -> bytes:
    """The MQMD CorrelId for a JMSCorrelationID: ``ID:`` + hex is bytes, other text its first 24 bytes."""
    if isinstance(text, bytes):
        return text[:24].ljust(24, b"\0")
    if text.startswith("ID:") and len(text) == 51:
        try:
            return bytes.fromhex(text[3:])
        except ValueError:
            pass
    return text.encode()[:24].ljust(24, b"\0")


def headers_of(md: MQMD, mcd: Mapping[str, Any], jms: Mapping[str, Any]) -> JMSHeaders:
    """The JMS headers of a message from its MQMD and its ``mcd`` and ``jms`` folders."""
    correlation = jms.get("Cid")
    if correlation is None and md.correl_id != NONE_ID:
        correlation = message_id(md.correl_id)
    reply_to = jms.get("Rto")
    if reply_to is None and md.reply_to_q:
        reply_to = f"queue://{md.reply_to_q_mgr}/{md.reply_to_q}"
    timestamp = jms.get("Tms")
    if timestamp is None:  # the MQMD's put date and time, only when the RFH2 has none (strptime is slow)
        stamp = md.put_datetime
        timestamp = None if stamp is None else int(stamp.timestamp() * 1000)
    return JMSHeaders(
        message_id=message_id(md.msg_id),
        correlation_id=None if correlation is None else str(correlation),
        destination=_text(jms.get("Dst")),
        reply_to=_text(reply_to),
        delivery_mode=_int(
            jms.get("Dlv"), PERSISTENT_MODE if md.persistence == PERSISTENT else NON_PERSISTENT_MODE
        ),
        priority=md.priority,
        timestamp=_int(timestamp, None),
        expiration=_int(jms.get("Exp"), 0) or 0,
        type=_text(mcd.get("Type")),
        body_type=str(mcd.get("Msd") or ""),
        redelivered=md.backout_count > 0,
        delivery_count=md.backout_count + 1,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, default: int | None) -> Any:
    try:
        return default if value is None else int(value)
    except ValueError:
        return default


def check_properties(properties: Mapping[str, Any]) -> None:
    """Refuse what a JMS consumer could not read, naming the property (before anything is put)."""
    for name, value in properties.items():
        problem = _name_problem(name) or _value_problem(value)
        if problem:
            raise JMSPropertyError(f"JMS property {name!r}: {problem}")


def _name_problem(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        return "a JMS property name is a Java identifier: letters, digits and _, not starting with a digit"
    if name.upper() in _RESERVED:
        return f"{name} is a word of the JMS selector syntax and cannot name a property"
    if name.startswith("JMS"):
        return "names starting with JMS are JMS's own (set JMS headers through send's arguments)"
    return ""


def _value_problem(value: Any) -> str:
    if isinstance(value, bool | str | float):
        return ""
    if isinstance(value, int):
        return "" if -_LONG <= value < _LONG else "an integer property is at most 64 bits (a Java long)"
    kind = "null" if value is None else type(value).__name__
    return f"a {kind} value; JMS properties are boolean, int, long, float, double or String"


@dataclass(frozen=True)
class SendHeaders:
    """The JMS headers of a message to send, and the MQRFH2 folders that carry them."""

    body_type: str
    destination: str
    reply_to: str | None = None
    correlation_id: str | None = None
    persistent: bool | None = None
    priority: int | None = None
    expiry_s: float | None = None
    type: str | None = None

    def folders(self, properties: Mapping[str, Any]) -> list[str]:
        """``mcd``, ``jms`` and (with properties) ``usr``, as IBM's JMS client writes them."""
        now_ms = int(time.time() * 1000)
        mcd = f"<mcd><Msd>{self.body_type}</Msd>" + (f"<Type>{escape(self.type)}</Type>" if self.type else "")
        jms = [f"<Dst>{escape(self.destination)}</Dst>", f"<Tms>{now_ms}</Tms>"]
        if self.reply_to:
            jms.append(f"<Rto>{escape(self.reply_to)}</Rto>")
        if self.expiry_s is not None:
            jms.append(f"<Exp>{now_ms + int(self.expiry_s * 1000)}</Exp>")
        if self.correlation_id:
            jms.append(f"<Cid>{escape(self.correlation_id)}</Cid>")
        if self.persistent is not None:
            jms.append(f"<Dlv>{PERSISTENT_MODE if self.persistent else NON_PERSISTENT_MODE}</Dlv>")
        if self.priority is not None:
            jms.append(f"<Pri>{self.priority}</Pri>")
        found = [mcd + "</mcd>", "<jms>" + "".join(jms) + "</jms>"]
        if properties:
            found.append("<usr>" + "".join(folders.element(k, v) for k, v in properties.items()) + "</usr>")
        return found


def queue_uri(queue: str, queue_manager: str = "") -> str:
    """A JMS destination for a queue: ``queue:///Q`` or ``queue://QM/Q``."""
    return f"queue://{queue_manager}/{queue}"
