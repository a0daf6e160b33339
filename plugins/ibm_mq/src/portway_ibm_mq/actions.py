"""Actions on an ``ibm_mq`` connection, offered by the CLI, admin API and console."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from portway_ibm_mq.client import MQClient


class SendArguments(BaseModel):
    """Send a test message."""

    model_config = {"extra": "forbid"}

    queue: str = Field(min_length=1, max_length=48, description="Queue to put the message on")
    data: str = Field("", description="Message body (text, sent as MQSTR)")
    priority: int | None = Field(None, ge=0, le=9, description="0-9; default: the queue's DEFPRTY")
    persistent: bool | None = Field(None, description="Persistent or not; default: the queue's DEFPSIST")
    expiry_s: float | None = Field(None, gt=0, description="Expire after this many seconds; default: never")
    correlation_id: str | None = Field(None, description="CorrelId: text, or 48 hex digits")
    reply_to: str | None = Field(None, description="ReplyToQ")
    format: str | None = Field(None, max_length=8, description="MQMD Format; default MQSTR")
    headers: dict[str, str] = Field(default_factory=dict, description="Message properties")


def send(client: MQClient, arguments: SendArguments) -> dict[str, Any]:
    """Put the message; answer with its queue and descriptor (ids in hex)."""
    md = client.send(
        arguments.data,
        arguments.queue,
        priority=arguments.priority,
        persistence=arguments.persistent,
        expiry=arguments.expiry_s,
        correlation_id=arguments.correlation_id,
        reply_to=arguments.reply_to,
        format=arguments.format,
        headers=arguments.headers,
    )
    return {"queue": arguments.queue, **md.as_dict()}
