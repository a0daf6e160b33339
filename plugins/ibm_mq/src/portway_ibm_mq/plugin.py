"""Entry point of portway-ibm-mq: the ``ibm_mq`` connection and channel types, and ``portway mq``.

Imports nothing heavy: the IBM MQ client library is loaded only when a real
connection is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portway import Action, ChannelType, ConnectionType, hookimpl
from portway_ibm_mq import actions
from portway_ibm_mq.channel import MQChannelRunner
from portway_ibm_mq.client import MQClient
from portway_ibm_mq.reasons import is_connection_lost
from portway_ibm_mq.settings import MQChannelSettings, MQConnectionSettings

if TYPE_CHECKING:
    import click


def _ping(client: MQClient) -> None:
    client.ping()


def _close(client: MQClient) -> None:
    client.close()


@hookimpl
def portway_connection_types() -> list[ConnectionType]:
    return [
        ConnectionType(
            name="ibm_mq",
            settings=MQConnectionSettings,
            connect=MQClient.open,
            ping=_ping,
            close=_close,
            summary="IBM MQ queue manager: send to any queue, request/reply",
            actions=(
                Action(
                    name="send",
                    summary="Send a test message to a queue",
                    arguments=actions.SendArguments,
                    run=actions.send,
                ),
                Action(
                    name="browse",
                    summary="List a queue's first messages (MQMD, JMS headers, body), leaving them there",
                    arguments=actions.BrowseArguments,
                    run=actions.browse,
                ),
                Action(
                    name="depth",
                    summary="A queue's depth, backout threshold and backout queue",
                    arguments=actions.QueueArguments,
                    run=actions.depth,
                ),
            ),
            is_broken=is_connection_lost,
        )
    ]


@hookimpl
def portway_channel_types() -> list[ChannelType]:
    return [
        ChannelType(
            name="ibm_mq",
            settings=MQChannelSettings,
            start=MQChannelRunner.start,
            summary="Consume an IBM MQ queue; invoke a service per message under syncpoint",
        )
    ]


@hookimpl
def portway_cli(cli: click.Group) -> None:
    from portway_ibm_mq.commands import mq

    cli.add_command(mq)
