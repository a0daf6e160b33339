"""An IBM MQ message: its body, its message descriptor (MQMD) and properties."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

ID_LENGTH = 24
NONE_ID = bytes(ID_LENGTH)

PERSISTENT = 1
NOT_PERSISTENT = 0
PERSISTENCE_AS_Q_DEF = 2
UNLIMITED = -1

MSGTYPE_REQUEST = 1
MSGTYPE_REPLY = 2
MSGTYPE_DATAGRAM = 8

FMT_NONE = ""
FMT_STRING = "MQSTR"
FMT_DEAD_LETTER_HEADER = "MQDEAD"

ENCODING_NATIVE = 546  # MQENC_NATIVE on x86 and ARM Linux: little-endian integers
CCSID_UTF8 = 1208


def to_id(value: bytes | str | None) -> bytes:
    """A MsgId or CorrelId: 24 bytes; shorter values are padded with nulls.

    A ``str`` of 48 hex digits is read as hex (as ids are shown), any other
    ``str`` as UTF-8 text.
    """
    if value is None:
        return NONE_ID
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value) if len(value) == 2 * ID_LENGTH else value.encode()
        except ValueError:
            raw = value.encode()
    else:
        raw = bytes(value)
    if len(raw) > ID_LENGTH:
        raise ValueError(f"an MQ message or correlation id is at most {ID_LENGTH} bytes, got {len(raw)}")
    return raw.ljust(ID_LENGTH, b"\0")


@dataclass(frozen=True, repr=False)
class MQMD:
    """The message descriptor: what MQ knows about a message besides its body.

    ``expiry`` is in tenths of a second as MQ counts it (``-1``: never); on a
    got message it is the time that was left. ``put_date`` is ``YYYYMMDD``
    and ``put_time`` ``HHMMSSTH`` (hundredths), both UTC.
    """

    msg_id: bytes = NONE_ID
    correl_id: bytes = NONE_ID
    backout_count: int = 0
    persistence: int = PERSISTENCE_AS_Q_DEF
    priority: int = -1  # -1: the queue's default priority
    expiry: int = UNLIMITED
    format: str = FMT_NONE
    msg_type: int = MSGTYPE_DATAGRAM
    reply_to_q: str = ""
    reply_to_q_mgr: str = ""
    encoding: int = ENCODING_NATIVE
    coded_char_set_id: int = CCSID_UTF8
    put_date: str = ""
    put_time: str = ""
    put_appl_name: str = ""
    put_appl_type: int = 6  # MQAT_DEFAULT (MQAT_UNIX); 28 would be MQAT_JAVA
    user_identifier: str = ""
    report: int = 0
    feedback: int = 0

    @property
    def persistent(self) -> bool:
        return self.persistence == PERSISTENT

    @property
    def put_datetime(self) -> datetime | None:
        """``put_date`` and ``put_time`` as an aware UTC datetime."""
        if not self.put_date or not self.put_time:
            return None
        stamp = datetime.strptime(self.put_date + self.put_time[:6], "%Y%m%d%H%M%S")
        return stamp.replace(microsecond=int(self.put_time[6:8] or 0) * 10000, tzinfo=UTC)

    def with_(self, **changes: Any) -> MQMD:
        """A copy with some fields changed."""
        unknown = changes.keys() - _MQMD_FIELDS
        if unknown:
            raise TypeError(f"MQMD has no field {sorted(unknown)[0]!r}")
        # Not dataclasses.replace: that re-runs __init__ over all 19 fields, a few µs per message.
        copy = object.__new__(MQMD)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: ids as hex."""
        data = asdict(self)
        data["msg_id"] = self.msg_id.hex()
        data["correl_id"] = self.correl_id.hex()
        return data

    def __repr__(self) -> str:
        # Shown in logs (the built-in portway.log-message): ids as hex, defaults left out.
        shown = [f"{k}={v!r}" for k, v in self.as_dict().items() if v not in ("", 0, None)]
        return f"MQMD({', '.join(shown)})"


_MQMD_FIELDS = frozenset(f.name for f in fields(MQMD))


@dataclass(frozen=True)
class Message:
    """A message as a backend puts and gets it: body (any MQRFH2 included), MQMD, handle properties."""

    body: bytes
    md: MQMD
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return decode_text(self.body, self.md.coded_char_set_id, self.md.encoding)


# CCSIDs a queue manager commonly gives text in, and Python's codec for each.
_CODECS = {
    1208: "utf-8",
    0: "utf-8",
    819: "latin-1",
    367: "ascii",
    437: "cp437",
    850: "cp850",
    1252: "cp1252",
    5348: "cp1252",
    912: "iso8859-2",
    37: "cp037",
    500: "cp500",
    1140: "cp1140",
    1200: "utf-16",
    13488: "utf-16",
    17584: "utf-16",
}


def decode_text(data: bytes, ccsid: int, encoding: int = ENCODING_NATIVE) -> str:
    """``data`` as text in the character set ``ccsid`` (UTF-16 in the byte order of ``encoding``)."""
    codec = _CODECS.get(ccsid)
    if codec is None:
        raise ValueError(f"text in CCSID {ccsid}, which portway does not decode; read the bytes instead")
    if codec == "utf-16":
        codec = "utf-16-be" if encoding & 0x0F == 1 else "utf-16-le"
    return data.decode(codec)


def encode_body(data: Any, format: str | None) -> tuple[bytes, str]:
    """What to put for ``data``: bytes as they are, text as UTF-8, anything else as JSON."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data), FMT_NONE if format is None else format
    if isinstance(data, str):
        return data.encode(), FMT_STRING if format is None else format
    return json.dumps(data, separators=(",", ":")).encode(), FMT_STRING if format is None else format


def put_stamp(now: datetime | None = None) -> tuple[str, str]:
    """``(PutDate, PutTime)`` in MQ's text forms, UTC."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%d"), now.strftime("%H%M%S") + f"{now.microsecond // 10000:02d}"
