"""Actions on an ``ibm_mq`` connection, offered by the CLI, admin API and console."""

from __future__ import annotations

from typing import Any

from portway_ibm_mq import listing
from portway_ibm_mq.arguments import BrowseArguments, QueueArguments, SendArguments
from portway_ibm_mq.client import MQClient


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
