"""Settings of an ``ibm_mq`` connection (the queue manager definition) and channel."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from portway.settings_marks import FileSetting, SecretAudience

_CONN_NAME = re.compile(r"^[^\s(),]+\(\d{1,5}\)$")
_BACKEND = re.compile(r"^(ibmmq|memory:[A-Za-z0-9._%/-]{1,48})$")
# Who receives the password: the listener(s), the user, which queue manager
# implementation, and whether TLS protects it on the way.
Audience = SecretAudience()


def _key_repository_files(stem: object) -> list[str]:
    """The files a key repository stem names: the key database and its password stash."""
    return [f"{stem}.kdb", f"{stem}.sth"] if isinstance(stem, str) and stem else []


class MQConnectionSettings(BaseModel):
    """A queue manager and how to reach it; shared by sending and by channels.

    How many connections a server opens to send at most is the connection's
    pool ``size``; each channel consumer opens one more of its own.
    """

    model_config = {"extra": "forbid"}

    backend: Annotated[str, Audience] = Field(
        "ibmmq",
        description="'ibmmq' for a real queue manager (IBM MQ client library), "
        "or 'memory:NAME' for the in-process queue manager NAME (tests, demos)",
    )
    queue_manager: str = Field("", max_length=48, description="Queue manager name; empty for the default")
    conn_name: Annotated[str, Audience] = Field(
        "127.0.0.1(1414)",
        description="host(port) of the listener; several, comma-separated, for a multi-instance QM",
    )
    server_channel: str = Field(
        "DEV.APP.SVRCONN", min_length=1, max_length=20, description="MQ server-connection (SVRCONN) channel"
    )
    user: Annotated[str, Audience] = Field(
        "", max_length=1024, description="User id, checked by the QM's CONNAUTH"
    )
    password: SecretStr | None = Field(None, description="Password of the user")
    cipher_spec: Annotated[str, Audience] = Field(
        "", description="TLS CipherSpec, e.g. ANY_TLS13_OR_HIGHER; empty: no TLS"
    )
    key_repository: Annotated[str, FileSetting(paths=_key_repository_files)] = Field(
        "", description="Key repository stem, e.g. /var/mqm/ssl/key (for key.kdb and key.sth)"
    )
    target_client: Literal["mq", "jms"] = Field(
        "mq",
        description="What services send by default, as MQ's TARGCLIENT: 'mq' plain messages, "
        "'jms' messages with an MQRFH2 that IBM MQ classes for JMS read as Text/BytesMessages",
    )
    reconnect_initial_s: float = Field(
        0.5, gt=0, le=60, description="First wait before a channel reconnects after losing the QM"
    )
    reconnect_max_s: float = Field(
        30.0, gt=0, le=3600, description="Longest wait between reconnect attempts (the wait doubles)"
    )

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        if not _BACKEND.match(value):
            raise ValueError("use 'ibmmq' or 'memory:NAME' (NAME: letters, digits, . _ - /)")
        return value

    @field_validator("conn_name")
    @classmethod
    def _conn_name(cls, value: str) -> str:
        for part in value.split(","):
            if not _CONN_NAME.match(part.strip()):
                raise ValueError(f"{part.strip()!r} is not host(port), e.g. mq.example.com(1414)")
        return value

    @model_validator(mode="after")
    def _tls(self) -> MQConnectionSettings:
        if self.key_repository and not self.cipher_spec:
            raise ValueError("key_repository is set but cipher_spec is empty; set both for TLS")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("reconnect_max_s must be at least reconnect_initial_s")
        return self

    @property
    def is_memory(self) -> bool:
        return self.backend.startswith("memory:")


class MQChannelSettings(BaseModel):
    """A channel: consume ``queue`` and invoke ``service`` for every message."""

    model_config = {"extra": "forbid"}

    connection: str = Field(description="Name of the ibm_mq connection (queue manager) to consume from")
    queue: str = Field(min_length=1, max_length=48, description="Queue to get messages from")
    service: str = Field(min_length=1, description="Service to invoke for each message")
    consumers: int = Field(1, ge=1, le=64, description="Consumer threads, each with its own connection")
    wait_interval_ms: int = Field(
        1000, ge=10, le=60_000, description="How long one MQGET waits; bounds how fast a stop is noticed"
    )
    data_format: Literal["auto", "bytes", "text", "json"] = Field(
        "auto",
        description="How the service gets the body: auto (MQSTR as text, else bytes), bytes, text or json",
    )
    default_backout_threshold: int = Field(
        3,
        ge=1,
        le=1000,
        description="Used when the queue's BOTHRESH is 0, so a poison message cannot loop forever",
    )
