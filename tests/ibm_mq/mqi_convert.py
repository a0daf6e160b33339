"""What the stand-in for ``ibmmq.ibmmqc`` does with the bytes it is given.

The packed MQMD to and from the in-memory queue manager's descriptor, message
properties set through MQSETMP, and the MQRFH2 a queue manager builds from
them when a getter asks for ``MQGMO_PROPERTIES_FORCE_MQRFH2``. The MQRFH2 is
laid out here from IBM's MQRFH2 reference (36-byte fixed part, then
NameValueLength + NameValueData pairs padded to 4), independently of the
plugin's own parser, which reads it back.
"""

from __future__ import annotations

import struct
from typing import Any
from xml.sax.saxutils import escape

import mqi_constants as c
from mqi_layouts import MQMD, field, text

from portway_ibm_mq.message import MQMD as Descriptor
from portway_ibm_mq.message import NONE_ID

FMT_RF_HEADER_2 = "MQHRF2"
CCSID_UTF8 = 1208


def descriptor(md: dict[str, Any]) -> Descriptor:
    """An unpacked MQMD as the in-memory queue manager's descriptor (what MQPUT gives it)."""
    return Descriptor(
        msg_id=md["MsgId"],
        correl_id=md["CorrelId"],
        persistence=md["Persistence"],
        priority=md["Priority"],
        expiry=md["Expiry"],
        format=text(md["Format"]),
        msg_type=md["MsgType"],
        reply_to_q=text(md["ReplyToQ"]),
        reply_to_q_mgr=text(md["ReplyToQMgr"]),
        encoding=md["Encoding"],
        coded_char_set_id=md["CodedCharSetId"] or CCSID_UTF8,  # MQCCSI_Q_MGR: the QM's CCSID
        put_date=text(md["PutDate"]),
        put_time=text(md["PutTime"]),
        put_appl_name=text(md["PutApplName"]),
        put_appl_type=md["PutApplType"],
        user_identifier=text(md["UserIdentifier"]),
        report=md["Report"],
        feedback=md["Feedback"],
    )


def fill(md: dict[str, Any], got: Descriptor) -> bytes:
    """The MQMD an MQGET returns: every field from the message as it is on the queue."""
    md = dict(md)
    md.update(
        Report=got.report,
        MsgType=got.msg_type,
        Expiry=got.expiry,
        Feedback=got.feedback,
        Encoding=got.encoding,
        CodedCharSetId=got.coded_char_set_id,
        Format=field(got.format, 8),
        Priority=got.priority,
        Persistence=got.persistence,
        MsgId=got.msg_id,
        CorrelId=got.correl_id,
        BackoutCount=got.backout_count,
        ReplyToQ=field(got.reply_to_q, 48),
        ReplyToQMgr=field(got.reply_to_q_mgr, 48),
        UserIdentifier=field(got.user_identifier, 12),
        PutApplType=got.put_appl_type,
        PutApplName=field(got.put_appl_name, 28),
        PutDate=field(got.put_date, 8),
        PutTime=field(got.put_time, 8),
    )
    return MQMD.pack(md)


def put_context(md: dict[str, Any], put: Descriptor) -> bytes:
    """The MQMD an MQPUT returns: MsgId and the context the queue manager set; the rest as given."""
    md = dict(md)
    md.update(
        MsgId=put.msg_id,
        UserIdentifier=field(put.user_identifier, 12),
        PutApplType=put.put_appl_type,
        PutApplName=field(put.put_appl_name, 28),
        PutDate=field(put.put_date, 8),
        PutTime=field(put.put_time, 8),
    )
    return MQMD.pack(md)


def is_none_id(value: bytes) -> bool:
    return value == NONE_ID


def property_value(kind: int, value: Any, length: int) -> Any:
    """A value MQSETMP received, as the C layer converts it for each MQTYPE_*."""
    if kind == c.MQTYPE_STRING:
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return (raw if length == c.MQVL_NULL_TERMINATED else raw[:length]).decode("utf-8")
    if kind == c.MQTYPE_BYTE_STRING:
        return bytes(value)[:length]
    if kind == c.MQTYPE_BOOLEAN:
        return bool(float(value))
    if kind in (c.MQTYPE_INT8, c.MQTYPE_INT16, c.MQTYPE_INT32, c.MQTYPE_INT64):
        bits = {c.MQTYPE_INT8: 8, c.MQTYPE_INT16: 16, c.MQTYPE_INT32: 32, c.MQTYPE_INT64: 64}[kind]
        half = 2 ** (bits - 1)
        return (int(value) + half) % (2 * half) - half  # truncated to the type, as the C cast does
    if kind == c.MQTYPE_FLOAT32:
        return struct.unpack("<f", struct.pack("<f", float(value)))[0]
    if kind == c.MQTYPE_FLOAT64:
        return float(value)
    if kind == c.MQTYPE_NULL:
        return None
    raise ValueError(kind)


def rfh2(properties: dict[str, Any], inner: Descriptor) -> bytes:
    """An MQRFH2 with a ``<usr>`` folder holding ``properties``, in front of a message ``inner``.

    Its integer fields are little endian (the MQMD the getter receives says
    MQENC_NATIVE); its Encoding, CCSID and Format describe the body after it.
    """
    data = (
        "<usr>" + "".join(_element(name, value) for name, value in properties.items()) + "</usr>"
    ).encode()
    data += b" " * (-len(data) % 4)
    fixed = struct.pack(
        "<4siiii8sii",
        b"RFH ",
        2,
        36 + 4 + len(data),
        inner.encoding,
        inner.coded_char_set_id,
        field(inner.format, 8),
        0,
        CCSID_UTF8,
    )
    return fixed + struct.pack("<i", len(data)) + data


def _element(name: str, value: Any) -> str:
    group, dot, rest = name.partition(".")
    if dot:  # "a.b" is property b in group a
        return f"<{group}>" + _element(rest, value) + f"</{group}>"
    leaf = name
    if value is None:
        return f"<{leaf} xsi:nil='true'></{leaf}>"
    if isinstance(value, bool):
        return f"<{leaf} dt='boolean'>{int(value)}</{leaf}>"
    if isinstance(value, int):
        kind = "i4" if -(2**31) <= value < 2**31 else "i8"
        return f"<{leaf} dt='{kind}'>{value}</{leaf}>"
    if isinstance(value, float):
        return f"<{leaf} dt='r8'>{value!r}</{leaf}>"
    if isinstance(value, bytes):
        return f"<{leaf} dt='bin.hex'>{value.hex()}</{leaf}>"
    return f"<{leaf}>{escape(str(value))}</{leaf}>"
