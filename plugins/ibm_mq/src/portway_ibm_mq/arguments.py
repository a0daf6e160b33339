"""The arguments of the ``ibm_mq`` connection's actions: pydantic models, nothing heavier.

Kept apart from :mod:`portway_ibm_mq.actions` so the plugin's declaration can name them
without importing the MQ client code (see docs/plugins.md, "Keep the import light").
"""

from __future__ import annotations

from pydantic import BaseModel, Field


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
