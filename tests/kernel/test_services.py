"""The service API in-process: names, payloads, cid in logs and nested calls, built-ins."""

from __future__ import annotations

from typing import Any

import pytest
import structlog

from portway.invocation import ServiceFailed
from portway.runtime import Runtime
from portway.service import Service, default_service_name

SOURCE = """
from portway import Service

class GetInvoice(Service):
    def handle(self):
        self.logger.info("fetching", invoice=self.request.payload)
        audit = self.invoke("portway.log-message", {"what": "invoice"})
        self.response.payload = {"cid": self.cid, "audit": audit}

class HTTPGateway(Service):
    async def handle(self):
        self.response.payload = self.request.gateway_hint

class Raises(Service):
    def handle(self):
        raise KeyError("nope")
"""


def test_default_names() -> None:
    class GetInvoice(Service):
        pass

    class HTTPServerThing(Service):
        pass

    assert default_service_name(GetInvoice).endswith(".get-invoice")
    assert default_service_name(HTTPServerThing).endswith(".http-server-thing")


def test_cid_is_bound_in_logs_and_carried_into_nested_calls(
    portway_runtime: Runtime, deploy_service: Any
) -> None:
    deploy_service("billing.py", SOURCE)
    with structlog.testing.capture_logs() as logs:
        response = portway_runtime.invoke("billing.get-invoice", 42, cid="cid-1")
    assert response.payload == {"cid": "cid-1", "audit": {"logged": True, "cid": "cid-1"}}
    fetching = next(e for e in logs if e["event"] == "fetching")
    assert fetching["cid"] == "cid-1" and fetching["service"] == "billing.get-invoice"
    logged = next(e for e in logs if e["event"] == "message_received")
    assert (
        logged["cid"] == "cid-1"
        and logged["payload"] == {"what": "invoice"}
        and logged["channel"] == "invoke"
    )


def test_channel_metadata_reads_as_attributes(portway_runtime: Runtime, deploy_service: Any) -> None:
    from portway.declarations import Delivery

    deploy_service("billing.py", SOURCE)
    response = portway_runtime.dispatch(
        Delivery(service="billing.http-gateway", payload=None, channel="c", meta={"gateway_hint": "h"})
    )
    assert response.payload == "h"


def test_service_error_is_wrapped_with_name_and_cid(portway_runtime: Runtime, deploy_service: Any) -> None:
    deploy_service("billing.py", SOURCE)
    with pytest.raises(ServiceFailed) as caught:
        portway_runtime.invoke("billing.raises", cid="c-9")
    assert caught.value.service == "billing.raises" and caught.value.cid == "c-9"
    assert isinstance(caught.value.error, KeyError)


def test_ping_builtin(portway_runtime: Runtime) -> None:
    assert portway_runtime.invoke("portway.ping").payload["pong"] is True
