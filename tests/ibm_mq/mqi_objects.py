"""MQOPEN, MQCLOSE and MQINQ of the stand-in for ``ibmmq.ibmmqc`` (see :mod:`ibmmqc_standin`)."""

from __future__ import annotations

from typing import Any

import mqi_constants as c
from mqi_layouts import MQOD, field, text
from mqi_state import Connection, Object, connection, lock, new_id, opened, struct_of, valid

from portway_ibm_mq.reasons import MQError

_ACCESS = c.MQOO_INPUT_AS_Q_DEF | c.MQOO_INPUT_SHARED | c.MQOO_INPUT_EXCLUSIVE | c.MQOO_BROWSE
_ACCESS |= c.MQOO_OUTPUT | c.MQOO_INQUIRE


def MQOPEN(hconn: int, od: bytes, options: int) -> tuple[int, bytes, int, int]:
    descriptor = struct_of(MQOD, od, "MQOPEN")
    failed = -1, od, c.MQCC_FAILED
    conn = connection(hconn)
    if conn is None:
        return (*failed, c.MQRC_HCONN_ERROR)
    if not valid(MQOD, descriptor):
        return (*failed, c.MQRC_OD_ERROR)
    kind, name = descriptor["ObjectType"], text(descriptor["ObjectName"])
    if kind not in (c.MQOT_Q, c.MQOT_Q_MGR):
        return (*failed, c.MQRC_OBJECT_TYPE_ERROR)
    if not options & _ACCESS or (kind == c.MQOT_Q_MGR and options & _ACCESS != c.MQOO_INQUIRE):
        return (*failed, c.MQRC_OPTIONS_ERROR)
    try:
        if kind == c.MQOT_Q:
            conn.session.queue_attributes(name)  # 2085 for a queue that does not exist
        else:
            conn.session.queue_manager_name()
    except MQError as exc:
        return (*failed, exc.reason)
    descriptor.update(
        ResolvedQName=field(name, 48), ResolvedQMgrName=field(conn.manager.name, 48), ResolvedType=kind
    )
    with lock:
        hobj = new_id()
        conn.objects[hobj] = Object(name, kind, options)
    return hobj, MQOD.pack(descriptor), c.MQCC_OK, c.MQRC_NONE


def MQCLOSE(hconn: int, hobj: int, options: int) -> tuple[int, int]:
    conn = connection(hconn)
    if conn is None:
        return c.MQCC_FAILED, c.MQRC_HCONN_ERROR
    with lock:
        found = conn.objects.pop(hobj, None)
    if found is None:
        return c.MQCC_FAILED, c.MQRC_HOBJ_ERROR
    return c.MQCC_OK, c.MQRC_NONE


def MQINQ(
    hconn: int,
    hobj: int,
    selectors: list[int],
    int_attrs: list[int],
    int_count: int,
    char_count: int,
    char_length: int,
) -> tuple[list[int], bytes, int, int]:
    """Integer attributes are appended to ``int_attrs``; character ones come back as one byte string."""
    if not isinstance(selectors, list) or not isinstance(int_attrs, list):
        raise TypeError("Arg is not a list")
    blank = bytes(char_length)
    found = opened(hconn, hobj, c.MQOO_INQUIRE, c.MQRC_NOT_OPEN_FOR_INQUIRE)
    if isinstance(found, int):
        return int_attrs, blank, c.MQCC_FAILED, found
    conn, target = found
    numbers: list[int] = []
    chars = b""
    try:
        for selector in selectors:
            value = _attribute(conn, target, selector)
            if isinstance(value, int):
                numbers.append(value)
            else:
                chars += field(value, 48)
    except MQError as exc:
        return int_attrs, blank, c.MQCC_FAILED, exc.reason
    except KeyError:
        return int_attrs, blank, c.MQCC_FAILED, c.MQRC_SELECTOR_ERROR
    if len(numbers) != int_count or len(chars) != char_length:
        return int_attrs, blank, c.MQCC_FAILED, c.MQRC_SELECTOR_ERROR  # counts that do not add up: 2067
    int_attrs.extend(numbers)
    return int_attrs, chars, c.MQCC_OK, c.MQRC_NONE


def _attribute(conn: Connection, target: Object, selector: int) -> Any:
    """One attribute; ``KeyError`` for a selector not valid for the object (or not modelled)."""
    session = conn.session
    if target.object_type == c.MQOT_Q_MGR:
        answers: dict[int, Any] = {
            c.MQCA_Q_MGR_NAME: session.queue_manager_name,
            c.MQCA_DEAD_LETTER_Q_NAME: session.dead_letter_queue,
        }
        return answers[selector]()
    queue = target.name
    answers = {
        c.MQIA_CURRENT_Q_DEPTH: lambda: session.depth(queue),
        c.MQIA_BACKOUT_THRESHOLD: lambda: session.queue_attributes(queue).backout_threshold,
        c.MQCA_BACKOUT_REQ_Q_NAME: lambda: session.queue_attributes(queue).backout_queue,
        c.MQCA_Q_NAME: lambda: queue,
    }
    return answers[selector]()
