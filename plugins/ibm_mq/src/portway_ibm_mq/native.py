"""The real backend: a client connection to an IBM MQ queue manager.

Uses IBM's ``ibmmq`` package, or ``pymqi`` (same API) when that is what is
installed; both need the IBM MQ client C library (the "MQ redistributable
client", usually in /opt/mqm). Imported only when a real connection opens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeVar

from portway.errors import PortwayError
from portway_ibm_mq import descriptors, reasons
from portway_ibm_mq.message import MQMD, NONE_ID, Message
from portway_ibm_mq.reasons import MQError
from portway_ibm_mq.session import QueueAttributes
from portway_ibm_mq.settings import MQConnectionSettings

T = TypeVar("T")


class ClientLibraryMissing(PortwayError):
    """Neither ``ibmmq`` nor ``pymqi`` could be imported."""


def library() -> ModuleType:
    """The MQI binding: ``ibmmq``, else ``pymqi``; a clear error naming what is missing."""
    problems = []
    for name in ("ibmmq", "pymqi"):
        try:
            return __import__(name)
        except ImportError as exc:  # also raised when libmqm_r.so is missing
            root: BaseException = exc
            while root.__context__ is not None:  # ibmmq hides the missing .so behind a fallback import
                root = root.__context__
            problems.append(f"import {name}: {root}")
    raise ClientLibraryMissing(
        "the IBM MQ client library is not available: install IBM's MQ client (the redistributable "
        "client, e.g. in /opt/mqm, with its lib64 on LD_LIBRARY_PATH) and then "
        "`pip install 'portway-ibm-mq[real]'` (the ibmmq package); or use backend 'memory:NAME' "
        f"for the in-memory queue manager ({'; '.join(problems)})"
    )


def connect(settings: MQConnectionSettings) -> NativeSession:
    """MQCONNX as a client over the settings' server-connection channel."""
    mq = library()
    cmqc = mq.CMQC
    cd = mq.CD()
    cd.ChannelName = settings.server_channel.encode()
    cd.ConnectionName = settings.conn_name.encode()
    cd.ChannelType = mq.CMQXC.MQCHT_CLNTCONN  # channel constants live in CMQXC, not CMQC
    cd.TransportType = mq.CMQXC.MQXPT_TCP
    # IBM's layer packs the MQCNO before it would add MQCNO_CLIENT_BINDING for an MQCD, and the
    # C layer never adds it: ask for a client connection, or a machine with a queue manager
    # installed tries a local (bindings) connection instead.
    options: dict[str, Any] = {"cd": cd, "cno": mq.CNO(Options=cmqc.MQCNO_CLIENT_BINDING)}
    if settings.cipher_spec:
        cd.SSLCipherSpec = settings.cipher_spec.encode()
        sco = mq.SCO()
        if settings.key_repository:
            sco.KeyRepository = settings.key_repository.encode()
        options["sco"] = sco
    if settings.user:
        options["user"] = settings.user
        options["password"] = settings.password.get_secret_value() if settings.password else ""
    qmgr = mq.QueueManager(None)
    _call(mq, "MQCONNX", "", lambda: qmgr.connect_with_options(settings.queue_manager, **options))
    return NativeSession(mq, qmgr)


def _call(mq: ModuleType, operation: str, queue: str, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one call of the binding; its failure as an :class:`MQError` naming the operation and queue."""
    try:
        return work(*args, **kwargs)
    except mq.MQMIError as exc:
        code = int(exc.reason)
        names = getattr(getattr(mq, "CMQSTRC", None), "MQRC_DICT", {})
        raise MQError(code, operation, queue, int(exc.comp), name=names.get(code)) from exc
    except mq.PYIFError as exc:  # the library's own "not connected": the handle is gone
        raise MQError(reasons.HCONN_ERROR, operation, queue) from exc


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).rstrip(" \0")


class NativeSession:
    """A ``session.Session`` over one MQ connection handle."""

    def __init__(self, mq: ModuleType, qmgr: Any) -> None:
        self.mq = mq
        self.cmqc = mq.CMQC
        self.qmgr = qmgr
        self._queues: dict[tuple[str, str], Any] = {}

    def _open(self, name: str, mode: str) -> Any:
        found = self._queues.get((name, mode))
        if found is None:
            c = self.cmqc
            options = {
                "get": c.MQOO_INPUT_AS_Q_DEF,
                "browse": c.MQOO_BROWSE,
                "put": c.MQOO_OUTPUT,
                "put-context": c.MQOO_OUTPUT | c.MQOO_SET_ALL_CONTEXT,
                "inquire": c.MQOO_INQUIRE,
            }[mode] | c.MQOO_FAIL_IF_QUIESCING
            found = _call(self.mq, "MQOPEN", name, lambda: self.mq.Queue(self.qmgr, name, options))
            self._queues[(name, mode)] = found
        return found

    def put(
        self, queue: str, body: bytes, md: MQMD, properties: Mapping[str, Any], *, syncpoint: bool
    ) -> MQMD:
        c = self.cmqc
        keep_context = bool(md.put_date)  # moving a message: keep its PutDate, PutTime, user...
        handle = self._open(queue, "put-context" if keep_context else "put")
        native = descriptors.to_native(self.mq, md, keep_context)
        options = c.MQPMO_SYNCPOINT if syncpoint else c.MQPMO_NO_SYNCPOINT
        options |= c.MQPMO_FAIL_IF_QUIESCING
        if md.msg_id == NONE_ID:
            options |= c.MQPMO_NEW_MSG_ID
        if keep_context:
            options |= c.MQPMO_SET_ALL_CONTEXT
        pmo = self.mq.PMO(Options=options)
        if not properties:
            _call(self.mq, "MQPUT", queue, lambda: handle.put(body, native, pmo))
            return descriptors.from_native(native)
        message_handle = _call(self.mq, "MQCRTMH", queue, lambda: self.mq.MessageHandle(self.qmgr))
        try:
            for name, value in properties.items():
                kind, length = descriptors.property_type(c, value)
                set_property = message_handle.properties.set
                _call(
                    self.mq,
                    "MQSETMP",
                    queue,
                    set_property,
                    name,
                    value,
                    property_type=kind,
                    value_length=length,
                )
            pmo.Version = c.MQPMO_VERSION_3
            pmo.OriginalMsgHandle = message_handle.msg_handle
            _call(self.mq, "MQPUT", queue, lambda: handle.put(body, native, pmo))
        finally:
            with contextlib.suppress(MQError):  # a broken connection took the handle with it
                _call(self.mq, "MQDLTMH", queue, message_handle.dlt)
        return descriptors.from_native(native)

    def get(
        self,
        queue: str,
        *,
        wait_ms: int,
        syncpoint: bool,
        msg_id: bytes | None = None,
        correl_id: bytes | None = None,
    ) -> Message:
        c = self.cmqc
        handle = self._open(queue, "get")
        native = self.mq.MD(MsgId=msg_id or NONE_ID, CorrelId=correl_id or NONE_ID)
        options = c.MQGMO_WAIT | c.MQGMO_FAIL_IF_QUIESCING
        options |= c.MQGMO_SYNCPOINT if syncpoint else c.MQGMO_NO_SYNCPOINT
        gmo = self._gmo(options, WaitInterval=max(0, wait_ms))
        body = _call(self.mq, "MQGET", queue, lambda: handle.get(None, native, gmo))
        return Message(bytes(body), descriptors.from_native(native), {})

    def _gmo(self, options: int, **fields: Any) -> Any:
        """An MQGMO that matches on ids (null ids match any message).

        Properties come as an MQRFH2 in front of the body, typed, whatever
        the queue's PROPCTL, for ``received`` to read with any RFH2 a JMS
        producer wrote. Matching on both ids, not MQMO_NONE, is what makes
        IBM's layer re-get *the same* message after a truncated first try
        (it copies the MsgId into the MQMD before it retries).
        """
        c = self.cmqc
        match = c.MQMO_MATCH_MSG_ID | c.MQMO_MATCH_CORREL_ID
        options |= c.MQGMO_PROPERTIES_FORCE_MQRFH2
        return self.mq.GMO(Options=options, MatchOptions=match, **fields)

    def browse(self, queue: str, limit: int) -> list[Message]:
        c = self.cmqc
        handle = self._open(queue, "browse")
        found: list[Message] = []
        step = c.MQGMO_BROWSE_FIRST
        while len(found) < limit:
            native = self.mq.MD()
            gmo = self._gmo(step | c.MQGMO_NO_WAIT | c.MQGMO_FAIL_IF_QUIESCING)
            try:
                body = _call(self.mq, "MQGET", queue, handle.get, None, native, gmo)
            except MQError as exc:
                if exc.reason != reasons.NO_MSG_AVAILABLE:
                    raise
                break
            found.append(Message(bytes(body), descriptors.from_native(native), {}))
            step = c.MQGMO_BROWSE_NEXT
        return found

    def depth(self, queue: str) -> int:
        handle = self._open(queue, "inquire")
        return int(_call(self.mq, "MQINQ", queue, lambda: handle.inquire(self.cmqc.MQIA_CURRENT_Q_DEPTH)))

    def commit(self) -> None:
        _call(self.mq, "MQCMIT", "", self.qmgr.commit)

    def backout(self) -> None:
        _call(self.mq, "MQBACK", "", self.qmgr.backout)

    def queue_manager_name(self) -> str:
        return _text(_call(self.mq, "MQINQ", "", lambda: self.qmgr.inquire(self.cmqc.MQCA_Q_MGR_NAME)))

    def queue_attributes(self, queue: str) -> QueueAttributes:
        c = self.cmqc
        handle = self._open(queue, "inquire")
        selectors = [c.MQIA_BACKOUT_THRESHOLD, c.MQCA_BACKOUT_REQ_Q_NAME]
        found = _call(self.mq, "MQINQ", queue, lambda: handle.inquire(selectors))  # one call, both
        return QueueAttributes(int(found[selectors[0]]), _text(found[selectors[1]]))

    def dead_letter_queue(self) -> str:
        name = _call(self.mq, "MQINQ", "", lambda: self.qmgr.inquire(self.cmqc.MQCA_DEAD_LETTER_Q_NAME))
        return _text(name)

    def close(self) -> None:
        """Back out and disconnect; a connection that is already gone is closed all the same."""
        try:
            self.backout()  # MQDISC would commit what is left: never let it
        except MQError as exc:
            if not exc.connection_lost and exc.reason != reasons.HCONN_ERROR:
                raise
        for handle in self._queues.values():
            with contextlib.suppress(self.mq.MQMIError, self.mq.PYIFError):
                handle.close()
        self._queues.clear()
        try:
            _call(self.mq, "MQDISC", "", self.qmgr.disconnect)
        except MQError as exc:
            if not exc.connection_lost and exc.reason != reasons.HCONN_ERROR:
                raise
