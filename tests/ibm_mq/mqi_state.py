"""Handle tables of the stand-in for ``ibmmq.ibmmqc``: listeners, connections, open objects.

Shared by :mod:`ibmmqc_standin` and the modules holding its calls
(:mod:`mqi_objects`, :mod:`mqi_messages`). Test code only.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import mqi_constants as c
import mqi_layouts as layouts

from portway_ibm_mq.memory import MemoryQueueManager, MemorySession
from portway_ibm_mq.memory_queue import Position


class error(Exception):
    """Raised, as by the C module, for arguments of the wrong size or type."""


@dataclass
class Listener:
    """A queue manager's listener: where clients reach it, and its SVRCONN channels."""

    manager: MemoryQueueManager
    channels: frozenset[str]
    cipher_spec: str = ""


@dataclass
class Object:
    """An open object handle (``hobj``): a queue or the queue manager."""

    name: str
    object_type: int
    options: int
    cursor: Position | None = None  # where BROWSE_NEXT continues


@dataclass
class Connection:
    """A connection handle (``hconn``) and what hangs off it."""

    session: MemorySession
    manager: MemoryQueueManager
    user: str
    appl_name: str
    objects: dict[int, Object] = field(default_factory=dict)
    handles: dict[int, dict[str, Any]] = field(default_factory=dict)  # hmsg -> its properties


listeners: dict[str, Listener] = {}
connections: dict[int, Connection] = {}
lock = threading.Lock()
_ids = itertools.count(1)


def new_id() -> int:
    """A new handle value (never 0, MQHO_NONE/MQHM_NONE)."""
    return next(_ids)


def struct_of(layout: layouts.Layout, data: Any, what: str) -> dict[str, Any]:
    """A structure argument unpacked; the wrong type or size raises as ``ibmmqc.c`` does."""
    if not isinstance(data, bytes):
        raise TypeError(f"{what}: a bytes-like object is required, not {type(data).__name__!r}")
    if len(data) != layout.size:  # checkArgSize in ibmmqc.c
        raise error(f"{layout.name} wrong size. Given: {len(data)}, expected {layout.size}")
    return layout.unpack(data)


def valid(layout: layouts.Layout, values: dict[str, Any]) -> bool:
    """Whether a structure carries its StrucId (the queue manager checks it)."""
    return bool(values["StrucId"] == layouts.STRUC_IDS[layout])


def pointed(address: int, length: int) -> str:
    """A string a structure points to, read from memory as the C library reads it."""
    return ctypes.string_at(address, length).decode() if address else ""


def connection(hconn: int) -> Connection | None:
    with lock:
        return connections.get(hconn)


def opened(hconn: int, hobj: int, needs: int, refusal: int) -> tuple[Connection, Object] | int:
    """The connection and object of a call, or the reason code it fails with.

    ``needs``: open options of which one must have been given (MQOO_OUTPUT for
    MQPUT...), ``refusal`` the reason when none was (2039...).
    """
    conn = connection(hconn)
    if conn is None:
        return c.MQRC_HCONN_ERROR
    found = conn.objects.get(hobj)
    if found is None:
        return c.MQRC_HOBJ_ERROR
    if not found.options & needs:
        return refusal
    return conn, found
