"""Entry point of portway-ibm-mq: the ``ibm_mq`` connection and channel types, and ``portway mq``.

Imports nothing heavy: the IBM MQ client library is loaded only when a real
connection is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from portway import Action, ChannelType, ConnectionType, hookimpl
from portway_ibm_mq import arguments
from portway_ibm_mq.reasons import is_connection_lost
from portway_ibm_mq.settings import MQChannelSettings, MQConnectionSettings

if TYPE_CHECKING:
    import click

    from portway import ChannelHost
    from portway_ibm_mq.channel import MQChannelRunner
    from portway_ibm_mq.client import MQClient

# The client, channel and action code (and their dataclasses, RFH2 and JMS parsing) load on
# first use: every CLI command and every server start imports this module.


def _open(settings: MQConnectionSettings) -> MQClient:
    from portway_ibm_mq.client import MQClient

    return MQClient.open(settings)


def _ping(client: MQClient) -> None:
    client.ping()


def _close(client: MQClient) -> None:
    client.close()


def _start(name: str, settings: MQChannelSettings, host: ChannelHost) -> MQChannelRunner:
    from portway_ibm_mq.channel import MQChannelRunner

    return MQChannelRunner.start(name, settings, host)


def _action(name: str) -> Callable[[Any, Any], Any]:
    def run(client: Any, given: Any) -> Any:
        from portway_ibm_mq import actions

        return getattr(actions, name)(client, given)

    return run


@hookimpl
def portway_connection_types() -> list[ConnectionType]:
    return [
        ConnectionType(
            name="ibm_mq",
            settings=MQConnectionSettings,
            connect=_open,
            ping=_ping,
            close=_close,
            summary="IBM MQ queue manager: send to any queue, request/reply",
            actions=(
                Action(
                    name="send",
                    summary="Send a test message to a queue",
                    arguments=arguments.SendArguments,
                    run=_action("send"),
                ),
                Action(
                    name="browse",
                    summary="List a queue's first messages (MQMD, JMS headers, body), leaving them there",
                    arguments=arguments.BrowseArguments,
                    run=_action("browse"),
                ),
                Action(
                    name="depth",
                    summary="A queue's depth, backout threshold and backout queue",
                    arguments=arguments.QueueArguments,
                    run=_action("depth"),
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
            start=_start,
            summary="Consume an IBM MQ queue; invoke a service per message under syncpoint",
        )
    ]


@hookimpl
def portway_cli(cli: click.Group) -> None:
    from portway_ibm_mq.commands import mq

    cli.add_command(mq)
