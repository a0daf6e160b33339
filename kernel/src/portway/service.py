"""The Service base class that users subclass, and its request/response."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

    from portway.outgoing import Outgoing


DEPLOYED_PREFIX = "portway_deployed."


class NestedCalls(Protocol):
    """What a running service calls other services through (the kernel's invocation of this call).

    A protocol, so that this module, which services import, needs nothing of the invoker.
    """

    def invoke_nested(self, name: str, payload: Any) -> Any: ...

    async def ainvoke_nested(self, name: str, payload: Any) -> Any: ...

    def outgoing(self) -> Outgoing: ...


@dataclass
class Request:
    """What a service was called with.

    ``payload`` is parsed by content type: JSON to Python objects, text to
    ``str``, anything else ``bytes``. Channels may add protocol metadata,
    reachable as attributes (an IBM MQ channel adds ``request.mq``).
    """

    payload: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    channel: str = "invoke"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found normally: channel metadata.
        meta = self.__dict__.get("meta", {})
        if name in meta:
            return meta[name]
        raise AttributeError(f"request has no attribute {name!r} (channel gave: {sorted(meta)})")


@dataclass
class Response:
    """What a service returns: set ``payload``, optionally ``status`` and ``headers``."""

    payload: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def default_service_name(cls: type) -> str:
    """``billing.GetInvoice`` -> ``billing.get-invoice``."""
    dashed = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", cls.__name__).lower()
    module = cls.__module__.rsplit(".", 1)[-1]
    if cls.__module__.startswith(DEPLOYED_PREFIX):  # hot-deployed: file stem + path digest
        module = module.rsplit("_", 1)[0]
    return f"{module}.{dashed}"


class Service:
    """Subclass this and write ``handle`` (sync or ``async``).

    Inside ``handle``: ``self.request``, ``self.response``, ``self.cid``,
    ``self.logger`` (structlog, cid bound), ``self.out.<type>[name]``
    and ``self.invoke(name, payload)``.
    """

    name: ClassVar[str] = ""

    request: Request
    response: Response
    cid: str
    _invocation: NestedCalls
    _service: str = ""  # the name it was invoked under, for its logger
    _logger: FilteringBoundLogger | None = None
    _out: Outgoing | None = None

    @property
    def out(self) -> Outgoing:
        """``self.out.<type>[name]``: this call's outgoing connections; made on first use.

        Many calls use none: made on every call it cost a few per cent of a short one.
        """
        if self._out is None:
            self._out = self._invocation.outgoing()
        return self._out

    @out.setter
    def out(self, value: Outgoing) -> None:
        self._out = value

    @property
    def logger(self) -> FilteringBoundLogger:
        """structlog, with the call's ``cid`` and the service's name bound; made on first use.

        Most calls never log: binding on every call cost a tenth of a short call.
        """
        if self._logger is None:
            import structlog

            self._logger = structlog.get_logger("portway.service").bind(
                cid=getattr(self, "cid", None), service=self._service or self.name
            )
        return self._logger

    @logger.setter
    def logger(self, value: FilteringBoundLogger) -> None:
        self._logger = value

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = default_service_name(cls)

    def handle(self) -> Any:
        """Do the work; override in a subclass."""
        raise NotImplementedError(f"service {self.name!r} has no handle() method")

    def invoke(self, name: str, payload: Any = None) -> Any:
        """Call another service with the same correlation id; return its payload."""
        return self._invocation.invoke_nested(name, payload)

    async def ainvoke(self, name: str, payload: Any = None) -> Any:
        """Like :meth:`invoke`, for ``async def handle``."""
        return await self._invocation.ainvoke_nested(name, payload)
