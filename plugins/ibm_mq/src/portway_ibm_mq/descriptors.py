"""Between portway's :class:`~portway_ibm_mq.message.MQMD` and the MQI binding's ``MD`` class.

Used by the ``native`` backend with IBM's ``ibmmq`` (or ``pymqi``); also the
MQTYPE_* a message property is set with.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from portway_ibm_mq.message import MQMD

_INT32 = 2**31


def to_native(mq: ModuleType, md: MQMD, keep_context: bool) -> Any:
    """An ``mq.MD`` for MQPUT; with ``keep_context`` the put date, time and identity are kept."""
    native = mq.MD(
        MsgId=md.msg_id,
        CorrelId=md.correl_id,
        Persistence=md.persistence,
        Priority=md.priority,
        Expiry=md.expiry,
        Format=md.format.encode().ljust(8),
        MsgType=md.msg_type,
        ReplyToQ=md.reply_to_q.encode(),
        ReplyToQMgr=md.reply_to_q_mgr.encode(),
        Encoding=md.encoding,
        CodedCharSetId=md.coded_char_set_id,
        Report=md.report,
        Feedback=md.feedback,
    )
    if keep_context:  # MQPMO_SET_ALL_CONTEXT
        native.PutDate = md.put_date.encode()
        native.PutTime = md.put_time.encode()
        native.UserIdentifier = md.user_identifier.encode()
        native.PutApplName = md.put_appl_name.encode()
        native.PutApplType = md.put_appl_type
    return native


def from_native(native: Any) -> MQMD:
    """The descriptor an MQPUT or MQGET filled in."""
    return MQMD(
        msg_id=bytes(native.MsgId),
        correl_id=bytes(native.CorrelId),
        backout_count=int(native.BackoutCount),
        persistence=int(native.Persistence),
        priority=int(native.Priority),
        expiry=int(native.Expiry),
        format=_text(native.Format),
        msg_type=int(native.MsgType),
        reply_to_q=_text(native.ReplyToQ),
        reply_to_q_mgr=_text(native.ReplyToQMgr),
        encoding=int(native.Encoding),
        coded_char_set_id=int(native.CodedCharSetId),
        put_date=_text(native.PutDate),
        put_time=_text(native.PutTime),
        put_appl_name=_text(native.PutApplName),
        put_appl_type=int(native.PutApplType),
        user_identifier=_text(native.UserIdentifier),
        report=int(native.Report),
        feedback=int(native.Feedback),
    )


def property_type(cmqc: ModuleType, value: Any) -> tuple[int, int]:
    """``(MQTYPE_*, value length)`` to MQSETMP a Python value with, so it reads back as that type."""
    if isinstance(value, bool):
        return cmqc.MQTYPE_BOOLEAN, 4
    if isinstance(value, int):
        return (cmqc.MQTYPE_INT32, 4) if -_INT32 <= value < _INT32 else (cmqc.MQTYPE_INT64, 8)
    if isinstance(value, float):
        return cmqc.MQTYPE_FLOAT64, 8
    if isinstance(value, bytes):
        return cmqc.MQTYPE_BYTE_STRING, len(value)
    if value is None:
        return cmqc.MQTYPE_NULL, 0
    return cmqc.MQTYPE_STRING, cmqc.MQVL_NULL_TERMINATED


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(value).rstrip(" \0")
