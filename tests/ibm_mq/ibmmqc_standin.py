"""A stand-in for ``ibmmq.ibmmqc``, the one C extension of IBM's ``ibmmq`` package.

IBM's Python layer (``ibmmq/*.py``) packs MQI structures and calls these
functions; the real ones forward to the MQ client library (``libmqm_r.so``),
which cannot be installed here. These take the same arguments and answer the
same tuples as ``code/ibmmq/ibmmqc.c`` in ibm-messaging/mq-mqi-python, check
structure sizes the way it does (``ibmmqc.error``), read the structures by
the MQI's byte layouts (:mod:`mqi_layouts`), and serve the calls from
portway's in-memory queue manager, answering with MQI completion and reason
codes. Only the calls ``portway_ibm_mq.native`` makes are here (and the two
IBM's layer makes at import); any other is missing, so a new use fails loudly.

A queue manager is reached through a *listener*: :func:`listen` binds a
``host(port)`` and its server-connection channels to a
``MemoryQueueManager``. :func:`install` puts this module in
``sys.modules["ibmmq.ibmmqc"]`` and imports ``ibmmq``. Test code only.
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import Any

import mqi_constants as c
from mqi_layouts import MQCD, MQCNO, MQCSP, text
from mqi_messages import MQCRTMH, MQDLTMH, MQGET, MQPUT, MQPUT1, MQSETMP
from mqi_objects import MQCLOSE, MQINQ, MQOPEN
from mqi_state import (
    Connection,
    Listener,
    connection,
    connections,
    error,
    listeners,
    lock,
    new_id,
    pointed,
    valid,
)

from portway_ibm_mq.memory import MemoryQueueManager
from portway_ibm_mq.reasons import MQError

__all__ = [
    "MQBACK",
    "MQCLOSE",
    "MQCMIT",
    "MQCONN",
    "MQCONNX",
    "MQCRTMH",
    "MQDISC",
    "MQDLTMH",
    "MQGET",
    "MQINQ",
    "MQOPEN",
    "MQPUT",
    "MQPUT1",
    "MQSETMP",
    "error",
]

__version__ = "2.1.2"  # the ibmmq release this stand-in was written against; IBM's layer checks it
__cmdlevel__ = 1001  # MQCMDL_CURRENT_LEVEL of the MQ headers 2.1.2 was built with
__mqbuild__ = "common"
# MQ*_CURRENT_VERSION of those headers: IBM's classes pack these structure versions.
__strucversions__ = {
    "cd": 13,
    "cno": 8,
    "csp": 3,
    "sco": 7,
    "gmo": 4,
    "pmo": 3,
    "od": 4,
    "md": 2,
    "bno": 1,
    "cmho": 1,
    "dmho": 1,
    "smpo": 1,
    "impo": 1,
    "pd": 1,
    "sts": 2,
    "dlh": 1,
}

APPLICATION = os.path.basename(sys.executable)[:28]  # PutApplName for default context, as a client sets it
_callback: Any = None


def install() -> Any:
    """Make ``import ibmmq`` load IBM's Python layer over this module; return ``ibmmq``."""
    loaded = sys.modules.get("ibmmq.ibmmqc")
    if loaded is not None and loaded is not sys.modules[__name__]:
        raise RuntimeError("ibmmq was imported with its real C extension before the stand-in")
    sys.modules["ibmmq.ibmmqc"] = sys.modules[__name__]
    import ibmmq

    return ibmmq


def listen(
    conn_name: str, manager: MemoryQueueManager, channels: tuple[str, ...] = ("DEV.APP.SVRCONN",)
) -> None:
    """Let clients reach ``manager`` at ``conn_name`` (``host(port)``) over these SVRCONN channels."""
    listeners[conn_name.replace(" ", "")] = Listener(manager, frozenset(channels))


def address_for(name: str) -> str:
    """A ``host(port)`` of its own for a queue manager's listener (no socket is opened)."""
    return f"127.0.0.1({1024 + zlib.crc32(name.encode()) % 60000})"


def stop_listening(conn_name: str) -> None:
    listeners.pop(conn_name.replace(" ", ""), None)


def live_message_handles() -> int:
    """Message handles created and not yet deleted (MQCRTMH without MQDLTMH), over all connections."""
    with lock:
        return sum(len(conn.handles) for conn in connections.values())


# The two calls IBM's layer makes when it is imported or configures its log.


def MQCBINIT(function: Any) -> None:
    global _callback
    if not callable(function):
        raise error("Need a callable object.")
    _callback = function


def MQLOGCF(options: int, filename: str | None = None) -> tuple[int]:
    return (0,)


def MQCONN(name: Any) -> tuple[int, int, int]:
    return c.MQHC_UNUSABLE_HCONN, c.MQCC_FAILED, 2059  # bindings mode: there is no local queue manager


def MQCONNX(
    name: bytes, cno: bytes, cd: bytes | None, csp: bytes | None, sco: bytes | None, bno: bytes | None
) -> tuple[int, int, int]:
    """Connect as a client: MQCNO, MQCD (channel, host(port), cipher) and MQCSP (user, password)."""
    if not isinstance(name, bytes):
        raise TypeError("MQCONNX: argument 1 must be bytes")
    failed = c.MQHC_UNUSABLE_HCONN, c.MQCC_FAILED
    options = MQCNO.unpack(cno)
    if not valid(MQCNO, options):
        return (*failed, c.MQRC_CNO_ERROR)
    if cd is None or not options["Options"] & c.MQCNO_CLIENT_BINDING:
        return (*failed, 2059)
    channel = MQCD.unpack(cd)
    if channel["ChannelType"] != c.MQCHT_CLNTCONN or channel["TransportType"] != c.MQXPT_TCP:
        return (*failed, c.MQRC_CD_ERROR)
    user, password = "", ""
    if csp is not None:
        security = MQCSP.unpack(csp)
        if not valid(MQCSP, security):
            return (*failed, c.MQRC_CSP_ERROR)
        user = pointed(security["CSPUserIdPtr"], security["CSPUserIdLength"])
        password = pointed(security["CSPPasswordPtr"], security["CSPPasswordLength"])
    reason = c.MQRC_HOST_NOT_AVAILABLE
    for address in text(channel["ConnectionName"]).split(","):  # a multi-instance QM: each in turn
        listener = listeners.get(address.strip())
        if listener is None:
            continue
        if text(channel["ChannelName"]) not in listener.channels:
            return (*failed, c.MQRC_UNKNOWN_CHANNEL_NAME)
        if text(channel["SSLCipherSpec"]) != listener.cipher_spec:
            return (*failed, c.MQRC_SSL_INITIALIZATION_ERROR)
        try:
            session = listener.manager.connect(text(name), user, password)
        except MQError as exc:
            reason = exc.reason
            if reason == c.MQRC_HOST_NOT_AVAILABLE:
                continue
            return (*failed, reason)
        appl_name = text(options["ApplName"]) or APPLICATION
        with lock:
            hconn = new_id()
            connections[hconn] = Connection(session, listener.manager, user, appl_name)
        return hconn, c.MQCC_OK, c.MQRC_NONE
    return (*failed, reason)


def MQDISC(hconn: int) -> tuple[int, int]:
    with lock:
        conn = connections.pop(hconn, None)
    if conn is None:
        return c.MQCC_FAILED, c.MQRC_HCONN_ERROR
    try:
        conn.session.commit()  # MQDISC on distributed platforms commits what is left
    except MQError as exc:
        return c.MQCC_FAILED, exc.reason
    finally:
        conn.session.close()
    return c.MQCC_OK, c.MQRC_NONE


def MQCMIT(hconn: int) -> tuple[int, int]:
    return _unit_of_work(hconn, "commit")


def MQBACK(hconn: int) -> tuple[int, int]:
    return _unit_of_work(hconn, "backout")


def _unit_of_work(hconn: int, verb: str) -> tuple[int, int]:
    conn = connection(hconn)
    if conn is None:
        return c.MQCC_FAILED, c.MQRC_HCONN_ERROR
    try:
        getattr(conn.session, verb)()
    except MQError as exc:
        return c.MQCC_FAILED, exc.reason
    return c.MQCC_OK, c.MQRC_NONE
