"""IBM MQ reason codes: their MQRC names, a hint for a user, and :class:`MQError`.

Both backends raise :class:`MQError`, so channels, services and the ping
report the same thing whichever queue manager is behind a connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from portway.errors import PortwayError

CC_OK = 0
CC_WARNING = 1
CC_FAILED = 2

NO_MSG_AVAILABLE = 2033
CONNECTION_BROKEN = 2009
NOT_AUTHORIZED = 2035
UNKNOWN_OBJECT_NAME = 2085
Q_FULL = 2053
Q_MGR_NOT_AVAILABLE = 2059
Q_MGR_QUIESCING = 2161
HOST_NOT_AVAILABLE = 2538
HCONN_ERROR = 2018
BACKOUT_THRESHOLD_REACHED = 2362
TRUNCATED_MSG_FAILED = 2080
RFH_FORMAT_ERROR = 2421


@dataclass(frozen=True)
class Reason:
    """One reason code: number, MQRC name and what a user can do about it."""

    code: int
    name: str
    hint: str = ""


_TABLE: tuple[Reason, ...] = (
    Reason(2003, "MQRC_BACKED_OUT", "the unit of work was backed out; retry it"),
    Reason(CONNECTION_BROKEN, "MQRC_CONNECTION_BROKEN", "the connection dropped; it is reopened"),
    Reason(2012, "MQRC_ENVIRONMENT_ERROR", "the call is not valid in this environment"),
    Reason(2016, "MQRC_GET_INHIBITED", "gets are inhibited on the queue; ALTER QLOCAL(...) GET(ENABLED)"),
    Reason(HCONN_ERROR, "MQRC_HCONN_ERROR", "the connection handle is no longer valid; reconnect"),
    Reason(2019, "MQRC_HOBJ_ERROR", "the queue handle is no longer valid; reopen the queue"),
    Reason(2024, "MQRC_SYNCPOINT_LIMIT_REACHED", "too many uncommitted messages; commit more often"),
    Reason(2030, "MQRC_MSG_TOO_BIG_FOR_Q", "the message is larger than the queue's MAXMSGL"),
    Reason(NO_MSG_AVAILABLE, "MQRC_NO_MSG_AVAILABLE", "no message arrived within the wait interval"),
    Reason(
        NOT_AUTHORIZED,
        "MQRC_NOT_AUTHORIZED",
        "check the user and password, and the queue manager's CHLAUTH and CONNAUTH records",
    ),
    Reason(2050, "MQRC_PRIORITY_ERROR", "priority is 0 (lowest) to 9 (highest)"),
    Reason(2051, "MQRC_PUT_INHIBITED", "puts are inhibited on the queue; ALTER QLOCAL(...) PUT(ENABLED)"),
    Reason(Q_FULL, "MQRC_Q_FULL", "the queue reached MAXDEPTH; let consumers catch up or raise MAXDEPTH"),
    Reason(2058, "MQRC_Q_MGR_NAME_ERROR", "check the queue manager name"),
    Reason(
        Q_MGR_NOT_AVAILABLE,
        "MQRC_Q_MGR_NOT_AVAILABLE",
        "check the queue manager name, that it is running and the host(port)",
    ),
    Reason(2063, "MQRC_SECURITY_ERROR", "the queue manager refused the security check; see its error log"),
    Reason(TRUNCATED_MSG_FAILED, "MQRC_TRUNCATED_MSG_FAILED", "the message is larger than the buffer"),
    Reason(2082, "MQRC_UNKNOWN_ALIAS_BASE_Q", "the alias queue points to a queue that does not exist"),
    Reason(UNKNOWN_OBJECT_NAME, "MQRC_UNKNOWN_OBJECT_NAME", "define the queue or check its name"),
    Reason(2087, "MQRC_UNKNOWN_REMOTE_Q_MGR", "check the remote queue manager name"),
    Reason(Q_MGR_QUIESCING, "MQRC_Q_MGR_QUIESCING", "the queue manager is shutting down; reconnecting"),
    Reason(2162, "MQRC_Q_MGR_STOPPING", "the queue manager is stopping; reconnecting"),
    Reason(2195, "MQRC_UNEXPECTED_ERROR", "see the queue manager's and client's error logs"),
    Reason(2202, "MQRC_CONNECTION_QUIESCING", "the connection is quiescing; reconnecting"),
    Reason(2203, "MQRC_CONNECTION_STOPPING", "the connection is stopping; reconnecting"),
    Reason(BACKOUT_THRESHOLD_REACHED, "MQRC_BACKOUT_THRESHOLD_REACHED", "backed out too often"),
    Reason(2381, "MQRC_KEY_REPOSITORY_ERROR", "check key_repository: the stem of the .kdb file, readable"),
    Reason(2393, "MQRC_SSL_INITIALIZATION_ERROR", "check cipher_spec and key_repository"),
    Reason(2400, "MQRC_UNSUPPORTED_CIPHER_SUITE", "use a cipher spec the channel's SSLCIPH accepts"),
    Reason(RFH_FORMAT_ERROR, "MQRC_RFH_FORMAT_ERROR", "the message's MQRFH2 header is malformed"),
    Reason(2537, "MQRC_CHANNEL_NOT_AVAILABLE", "the server-connection channel is stopped or at MAXINST"),
    Reason(
        HOST_NOT_AVAILABLE,
        "MQRC_HOST_NOT_AVAILABLE",
        "check the host(port) in conn_name and that the queue manager's listener runs",
    ),
    Reason(2539, "MQRC_CHANNEL_CONFIG_ERROR", "the channel definition does not match; see the QM error log"),
    Reason(2540, "MQRC_UNKNOWN_CHANNEL_NAME", "check server_channel: no such SVRCONN channel"),
    Reason(2548, "MQRC_RECONNECT_FAILED", "automatic reconnection failed; reconnecting"),
)

REASONS: dict[int, Reason] = {r.code: r for r in _TABLE}

# Reason codes after which the connection is gone and must be reopened.
CONNECTION_LOST: frozenset[int] = frozenset(
    {CONNECTION_BROKEN, HCONN_ERROR, Q_MGR_NOT_AVAILABLE, Q_MGR_QUIESCING, 2162, 2195, 2202, 2203, 2537}
    | {HOST_NOT_AVAILABLE, 2548}
)


def reason(code: int) -> Reason:
    """The known reason for ``code``, or a generic one naming the number."""
    return REASONS.get(code, Reason(code, f"MQRC_{code}", "see IBM's reason code reference"))


class MQError(PortwayError):
    """An MQI call failed: completion code, reason code, MQRC name and a hint.

    ``operation`` names the call (``MQGET``, ``MQPUT``, ``MQCONNX``...) and
    ``queue`` the queue, when there is one.
    """

    def __init__(
        self, code: int, operation: str = "", queue: str = "", comp: int = CC_FAILED, name: str | None = None
    ) -> None:
        found = reason(code)
        if name and code not in REASONS:  # the client library knows every MQRC name
            found = Reason(code, name, found.hint)
        self.comp = comp
        self.reason = code
        self.name = found.name
        self.hint = found.hint
        self.operation = operation
        self.queue = queue
        where = f"{operation} on queue {queue!r}: " if queue else (f"{operation}: " if operation else "")
        super().__init__(f"{where}{code} {found.name}: {found.hint}")

    @property
    def connection_lost(self) -> bool:
        """Whether the connection is gone and must be reopened."""
        return self.reason in CONNECTION_LOST


def is_connection_lost(exc: BaseException) -> bool:
    """For the pool: an error that means this client must not be reused."""
    seen: BaseException | None = exc
    for _depth in range(8):  # a service's error may wrap the MQError
        if seen is None:
            break
        if isinstance(seen, MQError):
            return seen.connection_lost
        if isinstance(seen, OSError):
            return True
        seen = getattr(seen, "error", None) or seen.__cause__
    return False
