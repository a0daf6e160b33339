"""Typed records that plugins return from their hooks.

A plugin author needs this module, :mod:`portway.hookspecs` and
:mod:`portway.files`; everything else (storage, validation, CLI, REST,
forms, pooling, ping) the kernel derives from these declarations. The
public modules are listed in docs/plugins.md ("The public API").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class Action:
    """An extra operation on a connection, offered in the CLI, the admin API and the console.

    ``run(client, arguments) -> result`` gets a pooled client (given back
    after the call, or discarded when ``is_broken`` says the error broke it)
    and the validated ``arguments`` model (unknown arguments are refused
    before). The result is shown as JSON: ``bytes`` decoded as UTF-8, JSON
    types kept, any other object as its ``str()``. A
    :class:`~portway.errors.PortwayError` it raises reaches the user as it
    is; any other exception as ``TYPE connection 'NAME': <message>``.
    """

    name: str
    summary: str
    arguments: type[BaseModel]
    run: Callable[[Any, Any], Any]


@dataclass(frozen=True)
class ConnectionType:
    """An outgoing connection type, such as ``sftp`` or ``ibm_mq``.

    Fields:
        name: the type's name in config, CLI (``portway conn create NAME``),
            REST and in services (``self.out.<name>[...]``). Lowercase, ``_``.
        settings: pydantic model of the settings; fields typed ``SecretStr``
            are encrypted at rest and never shown back.
        connect: ``settings -> client``; opens a new live client.
        ping: ``client -> None``; raises when the connection does not work.
        close: ``client -> None``; releases the client.
        summary: one line shown in ``portway plugins`` and the console.
        actions: extra operations (see :class:`Action`).
        is_broken: ``exception -> bool``; consulted only when a call on a
            pooled client failed (a service's call or an action raised);
            ``True`` tells the pool to discard the client instead of
            reusing it. Many libraries' connection errors are not
            ``OSError``, the default: name yours.
    """

    name: str
    settings: type[BaseModel]
    connect: Callable[[Any], Any]
    ping: Callable[[Any], None]
    close: Callable[[Any], None]
    summary: str = ""
    actions: tuple[Action, ...] = ()
    is_broken: Callable[[BaseException], bool] = lambda exc: isinstance(exc, OSError)


class Runner(Protocol):
    """A started channel. ``stop`` returns only when in-flight work is done."""

    def stop(self, drain_s: float) -> None: ...


@dataclass(frozen=True)
class Delivery:
    """What a channel hands to :meth:`ChannelHost.dispatch` for one message."""

    service: str
    payload: Any
    channel: str
    headers: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    cid: str | None = None


class Lease(Protocol):
    """Work only one server of a cluster may do (see :meth:`ChannelHost.lease`)."""

    name: str

    def held(self) -> bool:
        """Whether this server holds the lease now; cheap, check it before each poll."""
        ...

    def release(self) -> None:
        """Give it up (when the channel stops), so another server takes it at once."""
        ...


@dataclass(frozen=True)
class PickupRecord:
    """What the idempotent repository holds for one file of a pickup channel."""

    state: str  # taken | done | failed
    attempts: int  # failed runs so far
    owner: str  # the server that wrote the row last
    updated_at: float  # seconds since the epoch


class IdempotentRepository(Protocol):
    """The files a pickup channel took, finished or failed, in the config store, by key."""

    owner: str

    def look(self, key: str) -> PickupRecord | None: ...

    def look_many(self, keys: list[str]) -> dict[str, PickupRecord]: ...

    def take(self, key: str, seen: PickupRecord | None) -> bool:
        """Mark ``key`` taken by this server if its row is still ``seen``; whether it won."""
        ...

    def take_many(self, wanted: list[tuple[str, PickupRecord | None]]) -> set[str]:
        """:meth:`take` for several keys in one transaction; the keys it won."""
        ...

    def take_new(self, keys: list[str]) -> set[str]:
        """Take the ``keys`` that have no row yet (one statement); the keys it won."""
        ...

    def release(self, rows: list[tuple[str, PickupRecord | None]]) -> None:
        """Give back claims never started: drop new rows, put retaken ones back as they were."""
        ...

    def done(self, key: str) -> None: ...

    def done_many(self, keys: list[str]) -> None:
        """Mark ``keys`` done in one transaction."""
        ...

    def failed(self, key: str, error: str) -> None: ...

    def forget(self, key: str) -> None: ...

    def owner_alive(self, owner: str) -> bool:
        """Whether the server ``owner`` still runs (a row it took is left to it)."""
        ...

    def counts(self) -> dict[str, int]: ...


class ChannelHost(Protocol):
    """What the kernel gives a channel when it starts it."""

    def dispatch(self, delivery: Delivery) -> Any:
        """Invoke the service synchronously; return its response, raise its error."""
        ...

    def count_message(self, channel: str, outcome: str) -> None:
        """Count what became of a message after dispatch raised: ``"backed_out"`` (it goes back
        to be delivered again) or ``"moved_to_error"`` (a backout, error or dead-letter queue).
        ``taken``, ``succeeded`` and ``failed`` are counted by :meth:`dispatch` itself."""
        ...

    def report_lag(self, channel: str, messages: int) -> None:
        """Say how many messages wait for the channel (its consumer lag), where the protocol tells it,
        such as an MQ queue's depth; shown as ``portway_channel_lag_messages``. Call it every few
        seconds at most: the last value is kept."""
        ...

    def connection_settings(self, type_name: str, name: str) -> BaseModel:
        """The resolved, validated settings of a configured connection."""
        ...

    def connection_type(self, type_name: str) -> ConnectionType:
        """The declaration of an installed connection type."""
        ...

    def borrow(self, type_name: str, name: str) -> AbstractContextManager[Any]:
        """A pooled client of a configured connection for the block; discarded if the block broke it."""
        ...

    def idempotent_repository(self, channel: str) -> IdempotentRepository:
        """The idempotent repository of channel ``channel`` (see :mod:`portway.pickup`)."""
        ...

    def lease(self, name: str) -> Lease:
        """The cluster-wide lease ``name``, wanted from now on by this server.

        Held by one server of those sharing a PostgreSQL store at a time, taken
        over within 10 s when its holder dies; always held on SQLite. Name it
        after the channel (``"file:" + channel_name``); release it in ``stop``.
        """
        ...


@dataclass(frozen=True)
class ChannelType:
    """An incoming channel type, such as ``http`` or ``ibm_mq``.

    Fields:
        name: the type's name in config, CLI and REST.
        settings: pydantic model of the channel settings; must have a
            ``service`` field naming the service to invoke.
        start: ``(channel_name, settings, host) -> Runner``; starts consuming.
        summary: one line shown in ``portway plugins``.
    """

    name: str
    settings: type[BaseModel]
    start: Callable[[str, Any, ChannelHost], Runner]
    summary: str = ""


@dataclass(frozen=True)
class AuthFactor:
    """A second factor for the admin login, such as TOTP.

    The plugin does the protocol; the console stores the per-user secret
    (encrypted at rest), the last accepted step (the replay guard) and the
    throttling, so every factor gets them alike.

    Fields:
        name: short id, the value of ``[console] second_factor`` (``totp``).
        label: what the login form asks for ("6-digit code").
        new_secret: ``() -> secret``; a fresh random secret (text).
        provisioning_uri: ``(secret, account, issuer) -> uri`` that an
            authenticator app enrolls from (e.g. an ``otpauth://`` URI).
        verify: ``(secret, code, last_step) -> step | None``; the time step
            (or counter) the code matched, or ``None`` when it does not
            match. Codes at or before ``last_step`` (the last step accepted
            for this user, ``None`` if none yet) must be refused: that is
            the replay guard.
        qr_svg: ``uri -> str``; an SVG image of the URI as a QR code.
        qr_text: ``uri -> str``; the same QR code drawn for a terminal.
    """

    name: str
    label: str
    new_secret: Callable[[], str]
    provisioning_uri: Callable[[str, str, str], str]
    verify: Callable[[str, str, int | None], int | None]
    qr_svg: Callable[[str], str]
    qr_text: Callable[[str], str]
