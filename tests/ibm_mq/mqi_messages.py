"""MQPUT, MQPUT1, MQGET and message handles of the stand-in for ``ibmmq.ibmmqc``.

See :mod:`ibmmqc_standin`. Properties set on a message handle travel with
the message; a getter that passes no message handle receives them as an
MQRFH2 in front of the body (``MQGMO_PROPERTIES_FORCE_MQRFH2``, or the
queue's default PROPCTL(COMPAT) for ``usr`` properties).
"""

from __future__ import annotations

import re
from typing import Any

import mqi_constants as c
import mqi_convert as convert
from mqi_layouts import MQCMHO, MQDMHO, MQGMO, MQMD, MQPD, MQPMO, MQSMPO, field
from mqi_objects import MQCLOSE, MQOPEN
from mqi_state import Connection, Object, connection, lock, new_id, opened, struct_of, valid

from portway_ibm_mq.memory import TruncatedMessage
from portway_ibm_mq.message import Message
from portway_ibm_mq.reasons import MQError

_INPUT = c.MQOO_INPUT_AS_Q_DEF | c.MQOO_INPUT_SHARED | c.MQOO_INPUT_EXCLUSIVE
_BROWSE = c.MQGMO_BROWSE_FIRST | c.MQGMO_BROWSE_NEXT
_UNMODELLED_GET = c.MQGMO_PROPERTIES_IN_HANDLE  # properties into a handle: native.py does not ask
_PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
WAIT_UNLIMITED = -1  # MQWI_UNLIMITED
_TYPES = {
    c.MQTYPE_STRING,
    c.MQTYPE_BYTE_STRING,
    c.MQTYPE_BOOLEAN,
    c.MQTYPE_INT8,
    c.MQTYPE_INT16,
    c.MQTYPE_INT32,
    c.MQTYPE_INT64,
    c.MQTYPE_FLOAT32,
    c.MQTYPE_FLOAT64,
    c.MQTYPE_NULL,
}


def MQPUT(hconn: int, hobj: int, md: bytes, pmo: bytes, msg: bytes) -> tuple[bytes, bytes, int, int]:
    descriptor = struct_of(MQMD, md, "MQPUT")
    options = struct_of(MQPMO, pmo, "MQPUT")
    if not isinstance(msg, bytes):
        raise TypeError("MQPUT: the message must be bytes")
    found = opened(hconn, hobj, c.MQOO_OUTPUT, c.MQRC_NOT_OPEN_FOR_OUTPUT)
    if isinstance(found, int):
        return md, pmo, c.MQCC_FAILED, found
    return _put(*found, descriptor, options, msg, md, pmo)


def MQPUT1(hconn: int, od: bytes, md: bytes, pmo: bytes, msg: bytes) -> tuple[bytes, bytes, int, int]:
    struct_of(MQMD, md, "MQPUT1")
    struct_of(MQPMO, pmo, "MQPUT1")
    open_options = c.MQOO_OUTPUT
    if MQPMO.unpack(pmo)["Options"] & c.MQPMO_SET_ALL_CONTEXT:
        open_options |= c.MQOO_SET_ALL_CONTEXT
    hobj, _od, cc, rc = MQOPEN(hconn, od, open_options)
    if cc == c.MQCC_FAILED:
        return md, pmo, cc, rc
    try:
        return MQPUT(hconn, hobj, md, pmo, msg)
    finally:
        MQCLOSE(hconn, hobj, 0)


def _put(
    conn: Connection,
    target: Object,
    md: dict[str, Any],
    pmo: dict[str, Any],
    body: bytes,
    raw_md: bytes,
    raw_pmo: bytes,
) -> tuple[bytes, bytes, int, int]:
    failed = raw_md, raw_pmo, c.MQCC_FAILED
    if not valid(MQMD, md):
        return (*failed, c.MQRC_MD_ERROR)
    if not valid(MQPMO, pmo):
        return (*failed, c.MQRC_PMO_ERROR)
    options = pmo["Options"]
    if md["Persistence"] not in (0, 1, c.MQPER_PERSISTENCE_AS_Q_DEF):
        return (*failed, c.MQRC_PERSISTENCE_ERROR)
    if md["Expiry"] <= 0 and md["Expiry"] != c.MQEI_UNLIMITED:
        return (*failed, c.MQRC_EXPIRY_ERROR)
    properties: dict[str, Any] = {}
    if pmo["Version"] >= 3 and pmo["OriginalMsgHandle"] != c.MQHM_NONE:
        if pmo["OriginalMsgHandle"] not in conn.handles:
            return (*failed, c.MQRC_HMSG_ERROR)
        properties = dict(conn.handles[pmo["OriginalMsgHandle"]])
    given = convert.descriptor(md)
    if options & c.MQPMO_NEW_MSG_ID:
        given = given.with_(msg_id=bytes(24))
    if options & c.MQPMO_SET_ALL_CONTEXT:
        if not target.options & c.MQOO_SET_ALL_CONTEXT:
            return (*failed, c.MQRC_NOT_OPEN_FOR_SET_ALL)
    else:  # default context: the queue manager says who and when
        given = given.with_(
            put_date="",
            put_time="",
            user_identifier=conn.user,
            put_appl_name=conn.appl_name,
            put_appl_type=c.MQAT_UNIX,
        )
    try:
        put = conn.session.put(
            target.name, body, given, properties, syncpoint=bool(options & c.MQPMO_SYNCPOINT)
        )
    except MQError as exc:
        return (*failed, exc.reason)
    pmo.update(ResolvedQName=field(target.name, 48), ResolvedQMgrName=field(conn.manager.name, 48))
    return convert.put_context(md, put), MQPMO.pack(pmo), c.MQCC_OK, c.MQRC_NONE


def MQGET(
    hconn: int, hobj: int, md: bytes, gmo: bytes, max_length: int
) -> tuple[bytes, bytes, bytes, int, int, int]:
    """The message (at most ``max_length`` bytes), MQMD, MQGMO, its real length, CC, RC."""
    descriptor = struct_of(MQMD, md, "MQGET")
    options = struct_of(MQGMO, gmo, "MQGET")
    failed = b"", md, gmo, 0, c.MQCC_FAILED
    browsing = bool(options["Options"] & _BROWSE)
    needs, refusal = (
        (c.MQOO_BROWSE, c.MQRC_NOT_OPEN_FOR_BROWSE) if browsing else (_INPUT, c.MQRC_NOT_OPEN_FOR_INPUT)
    )
    found = opened(hconn, hobj, needs, refusal)
    if isinstance(found, int):
        return (*failed, found)
    conn, source = found
    if not valid(MQMD, descriptor):
        return (*failed, c.MQRC_MD_ERROR)
    if not valid(MQGMO, options) or max_length < 0:
        return (*failed, c.MQRC_GMO_ERROR if max_length >= 0 else 2005)  # 2005 MQRC_BUFFER_LENGTH_ERROR
    flags = options["Options"]
    if flags & _UNMODELLED_GET or options["MsgHandle"] != c.MQHM_NONE:
        return (*failed, c.MQRC_OPTIONS_ERROR)
    msg_id, correl_id = _match(descriptor, options)
    if browsing and (msg_id or correl_id):
        return (*failed, c.MQRC_OPTIONS_ERROR)  # browsing by id is not modelled
    accept = bool(flags & c.MQGMO_ACCEPT_TRUNCATED_MSG)

    def fits(message: Message) -> bool:
        return accept or len(_delivered(message, flags)) <= max_length

    try:
        if browsing:
            after = None if flags & c.MQGMO_BROWSE_FIRST else source.cursor
            message, position = conn.session.browse_next(source.name, after)
            if not fits(message):
                raise TruncatedMessage(source.name, message)
            source.cursor = position
        else:
            wait = options["WaitInterval"] if flags & c.MQGMO_WAIT else 0
            wait_ms = 2**31 if wait == WAIT_UNLIMITED else wait
            syncpoint = bool(flags & c.MQGMO_SYNCPOINT)
            message = conn.session.get(
                source.name,
                wait_ms=wait_ms,
                syncpoint=syncpoint,
                msg_id=msg_id,
                correl_id=correl_id,
                fits=fits,
            )
    except TruncatedMessage as exc:
        data, got = _delivered(exc.message, flags), exc.message
        return data[:max_length], _md_out(descriptor, got, flags), gmo, len(data), c.MQCC_FAILED, exc.reason
    except MQError as exc:
        return (*failed, exc.reason)
    data = _delivered(message, flags)
    options.update(ResolvedQName=field(source.name, 48), ReturnedLength=min(len(data), max_length))
    cc, rc = (c.MQCC_OK, c.MQRC_NONE) if len(data) <= max_length else (c.MQCC_WARNING, 2079)  # ACCEPTED
    return data[:max_length], _md_out(descriptor, message, flags), MQGMO.pack(options), len(data), cc, rc


def _match(md: dict[str, Any], gmo: dict[str, Any]) -> tuple[bytes | None, bytes | None]:
    """The ids an MQGET matches on; MQMI_NONE/MQCI_NONE match any message."""
    match = gmo["MatchOptions"]
    msg_id = md["MsgId"] if match & c.MQMO_MATCH_MSG_ID and not convert.is_none_id(md["MsgId"]) else None
    correl_id = md["CorrelId"]
    if not match & c.MQMO_MATCH_CORREL_ID or convert.is_none_id(correl_id):
        correl_id = None
    return msg_id, correl_id


def _delivered(message: Message, flags: int) -> bytes:
    """The bytes a getter without a message handle receives: any properties as an MQRFH2."""
    if not message.properties or flags & c.MQGMO_NO_PROPERTIES:
        return message.body
    return convert.rfh2(message.properties, message.md) + message.body


def _md_out(md: dict[str, Any], message: Message, flags: int) -> bytes:
    got = message.md
    if message.properties and not flags & c.MQGMO_NO_PROPERTIES:  # the MQRFH2 now comes first
        got = got.with_(format=convert.FMT_RF_HEADER_2, encoding=c.MQENC_NATIVE, coded_char_set_id=1208)
    return convert.fill(md, got)


def MQCRTMH(hconn: int, cmho: bytes) -> tuple[int, int, int]:
    options = struct_of(MQCMHO, cmho, "MQCRTMH")
    conn = connection(hconn)
    if conn is None:
        return c.MQHM_UNUSABLE_HMSG, c.MQCC_FAILED, c.MQRC_HCONN_ERROR
    if not valid(MQCMHO, options):
        return c.MQHM_UNUSABLE_HMSG, c.MQCC_FAILED, c.MQRC_CMHO_ERROR
    with lock:
        handle = new_id()
        conn.handles[handle] = {}
    return handle, c.MQCC_OK, c.MQRC_NONE


def MQDLTMH(hconn: int, hmsg: int, dmho: bytes) -> tuple[int, int]:
    options = struct_of(MQDMHO, dmho, "MQDLTMH")
    conn = connection(hconn)
    if conn is None:
        return c.MQCC_FAILED, c.MQRC_HCONN_ERROR
    if not valid(MQDMHO, options):
        return c.MQCC_FAILED, c.MQRC_DMHO_ERROR
    with lock:
        if conn.handles.pop(hmsg, None) is None:
            return c.MQCC_FAILED, c.MQRC_HMSG_ERROR
    return c.MQCC_OK, c.MQRC_NONE


def MQSETMP(
    hconn: int, hmsg: int, smpo: bytes, name: bytes, pd: bytes, kind: int, value: Any, value_length: int
) -> tuple[int, int]:
    if not isinstance(name, bytes):
        raise TypeError("MQSETMP: the property name must be bytes")
    options = struct_of(MQSMPO, smpo, "MQSETMP")
    descriptor = struct_of(MQPD, pd, "MQSETMP")
    conn = connection(hconn)
    if conn is None:
        return c.MQCC_FAILED, c.MQRC_HCONN_ERROR
    if hmsg not in conn.handles:
        return c.MQCC_FAILED, c.MQRC_HMSG_ERROR
    if not valid(MQSMPO, options):
        return c.MQCC_FAILED, c.MQRC_SMPO_ERROR
    if not valid(MQPD, descriptor):
        return c.MQCC_FAILED, c.MQRC_PD_ERROR
    text = name.decode("utf-8", "replace")
    if text.startswith("usr."):
        text = text[4:]  # usr.x and x name the same property
    if not _PROPERTY_NAME.match(text) or text.split(".")[0].lower() in ("jms", "mcd", "mq", "mqext", "mqps"):
        return c.MQCC_FAILED, c.MQRC_PROPERTY_NAME_ERROR
    if kind not in _TYPES:
        return c.MQCC_FAILED, c.MQRC_PROPERTY_TYPE_ERROR
    converted = convert.property_value(kind, value, value_length)
    with lock:
        conn.handles[hmsg][text] = converted
    return c.MQCC_OK, c.MQRC_NONE
