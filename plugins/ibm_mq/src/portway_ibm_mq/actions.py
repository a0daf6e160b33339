"""Actions on an ``ibm_mq`` connection, offered by the CLI, admin API and console."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from portway_ibm_mq import listing
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
    jms: bool | None = Field(
        None, description="Send as a JMS message (MQRFH2), for a JMS consumer; default: the connection's"
    )


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
        jms=arguments.jms,
    )
    return {"queue": arguments.queue, **md.as_dict()}


class BrowseArguments(BaseModel):
    """Look at the first messages of a queue, leaving them there."""

    model_config = {"extra": "forbid"}

    queue: str = Field(min_length=1, max_length=48, description="Queue to browse")
    limit: int = Field(10, ge=1, le=500, description="How many messages, from the first to be delivered")
    body_chars: int = Field(200, ge=0, le=100_000, description="How much of each body to show")


class QueueArguments(BaseModel):
    """Inquire a queue."""

    model_config = {"extra": "forbid"}

    queue: str = Field(min_length=1, max_length=48, description="Queue to inquire")


def browse(client: MQClient, arguments: BrowseArguments) -> dict[str, Any]:
    """The queue's depth, backout settings and first messages (MQMD fields, JMS headers, body start)."""
    found = client.browse(arguments.queue, arguments.limit)
    return {
        **depth(client, QueueArguments(queue=arguments.queue)),
        "messages": [listing.summary(index, m, arguments.body_chars) for index, m in enumerate(found, 1)],
    }


def depth(client: MQClient, arguments: QueueArguments) -> dict[str, Any]:
    """CURDEPTH, BOTHRESH and BOQNAME of the queue."""
    attributes = client.queue_attributes(arguments.queue)
    return {
        "queue": arguments.queue,
        "depth": client.depth(arguments.queue),
        "backout_threshold": attributes.backout_threshold,
        "backout_queue": attributes.backout_queue,
    }
