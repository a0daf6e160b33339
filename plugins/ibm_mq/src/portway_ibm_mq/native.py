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
    cd.ChannelType = cmqc.MQCHT_CLNTCONN
    cd.TransportType = cmqc.MQXPT_TCP
    options: dict[str, Any] = {"cd": cd}
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


def _call(mq: ModuleType, operation: str, queue: str, work: Callable[[], T]) -> T:
    try:
        return work()
    except mq.MQMIError as exc:
        code = int(exc.reason)
        names = getattr(getattr(mq, "CMQSTRC", None), "MQRC_DICT", {})
        raise MQError(code, operation, queue, int(exc.comp), name=names.get(code)) from exc


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).rstrip(" \0")


class NativeSession:
    """A ``backend.Session`` over one MQ connection handle."""

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
                "put": c.MQOO_OUTPUT,
                "put-context": c.MQOO_OUTPUT | c.MQOO_SET_ALL_CONTEXT,
                "inquire": c.MQOO_INQUIRE,
            }[mode] | c.MQOO_FAIL_IF_QUIESCING
            found = _call(self.mq, "MQOPEN", name, lambda: self.mq.Queue(self.qmgr, name, options))
            self._queues[(name, mode)] = found
        return found

    def put(
        self, queue: str, body: bytes, md: MQMD, properties: Mapping[str, str], *, syncpoint: bool
    ) -> MQMD:
        c = self.cmqc
        keep_context = bool(md.put_date)  # moving a message: keep its PutDate, PutTime, user...
        handle = self._open(queue, "put-context" if keep_context else "put")
        native = self.mq.MD()
        native.MsgId = md.msg_id
        native.CorrelId = md.correl_id
        native.Persistence = md.persistence
        native.Priority = md.priority
        native.Expiry = md.expiry
        native.Format = md.format.encode().ljust(8)
        native.MsgType = md.msg_type
        native.ReplyToQ = md.reply_to_q.encode()
        native.ReplyToQMgr = md.reply_to_q_mgr.encode()
        native.Encoding = md.encoding
        native.CodedCharSetId = md.coded_char_set_id
        native.Report = md.report
        native.Feedback = md.feedback
        options = c.MQPMO_SYNCPOINT if syncpoint else c.MQPMO_NO_SYNCPOINT
        options |= c.MQPMO_FAIL_IF_QUIESCING
        if md.msg_id == NONE_ID:
            options |= c.MQPMO_NEW_MSG_ID
        if keep_context:
            options |= c.MQPMO_SET_ALL_CONTEXT
            native.PutDate = md.put_date.encode()
            native.PutTime = md.put_time.encode()
            native.UserIdentifier = md.user_identifier.encode()
            native.PutApplName = md.put_appl_name.encode()
            native.PutApplType = md.put_appl_type
            native.BackoutCount = 0
        pmo = self.mq.PMO(Options=options)
        if properties:
            message_handle = self.mq.MessageHandle(self.qmgr)
            for name, value in properties.items():
                message_handle.properties.set(name, value)
            pmo.Version = c.MQPMO_VERSION_3
            pmo.OriginalMsgHandle = message_handle.msg_handle
        _call(self.mq, "MQPUT", queue, lambda: handle.put(body, native, pmo))
        return self._md(native)

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
        native = self.mq.MD()
        match = c.MQMO_NONE
        if msg_id is not None:
            native.MsgId = msg_id
            match |= c.MQMO_MATCH_MSG_ID
        if correl_id is not None:
            native.CorrelId = correl_id
            match |= c.MQMO_MATCH_CORREL_ID
        options = c.MQGMO_WAIT | c.MQGMO_FAIL_IF_QUIESCING
        options |= c.MQGMO_SYNCPOINT if syncpoint else c.MQGMO_NO_SYNCPOINT
        gmo = self.mq.GMO(Options=options, WaitInterval=max(0, wait_ms), MatchOptions=match)
        body = _call(self.mq, "MQGET", queue, lambda: handle.get(None, native, gmo))
        return Message(bytes(body), self._md(native), {})

    def commit(self) -> None:
        _call(self.mq, "MQCMIT", "", self.qmgr.commit)

    def backout(self) -> None:
        _call(self.mq, "MQBACK", "", self.qmgr.backout)

    def queue_manager_name(self) -> str:
        return _text(_call(self.mq, "MQINQ", "", lambda: self.qmgr.inquire(self.cmqc.MQCA_Q_MGR_NAME)))

    def queue_attributes(self, queue: str) -> QueueAttributes:
        handle = self._open(queue, "inquire")
        threshold = _call(self.mq, "MQINQ", queue, lambda: handle.inquire(self.cmqc.MQIA_BACKOUT_THRESHOLD))
        backout_queue = _call(
            self.mq, "MQINQ", queue, lambda: handle.inquire(self.cmqc.MQCA_BACKOUT_REQ_Q_NAME)
        )
        return QueueAttributes(int(threshold), _text(backout_queue))

    def dead_letter_queue(self) -> str:
        name = _call(self.mq, "MQINQ", "", lambda: self.qmgr.inquire(self.cmqc.MQCA_DEAD_LETTER_Q_NAME))
        return _text(name)

    def close(self) -> None:
        # MQDISC would commit pending work; back it out first so a stop never commits by accident.
        try:
            self.backout()
        finally:
            for handle in self._queues.values():
                # The connection may be gone; disconnecting below frees everything.
                with contextlib.suppress(self.mq.MQMIError):
                    handle.close()
            self._queues.clear()
            _call(self.mq, "MQDISC", "", self.qmgr.disconnect)

    def _md(self, native: Any) -> MQMD:
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
