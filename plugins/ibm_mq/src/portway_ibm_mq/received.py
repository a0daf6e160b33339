"""A message as a service receives it: the data after any MQRFH2, properties, JMS headers.

Both backends hand over a :class:`~portway_ibm_mq.message.Message` as got:
its body may start with MQRFH2 headers (from a JMS producer, or properties a
queue manager delivers that way), and the in-memory one carries properties
beside it. :func:`receive` takes the headers off and reads them, so a
service sees the same thing whichever backend, and whichever way a producer
sent its properties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from portway_ibm_mq import jms, rfh2
from portway_ibm_mq.jms import JMSHeaders
from portway_ibm_mq.message import FMT_STRING, MQMD, Message, decode_text

_JMS_FOLDERS = ("mcd", "jms")


@dataclass(frozen=True)
class Received:
    """A got message, read.

    ``body`` is the application data after any MQRFH2 headers; ``md`` the
    message descriptor with Format, Encoding and CodedCharSetId describing
    that data (as the last header says); ``properties`` the application's
    properties (the ``usr`` folder and message-handle ones) with their
    types; ``jms`` the JMS headers when a JMS client sent it; ``headers`` the
    MQRFH2 headers as read; ``raw`` the message exactly as got. When the
    headers cannot be read, ``problem`` says why and ``body`` and ``md`` are
    the message as got.
    """

    body: bytes
    md: MQMD
    properties: dict[str, Any] = field(default_factory=dict)
    jms: JMSHeaders | None = None
    headers: tuple[rfh2.Header, ...] = ()
    raw: Message | None = None
    problem: str = ""

    @property
    def text(self) -> str:
        """The body as text, in its CCSID."""
        return decode_text(self.body, self.md.coded_char_set_id, self.md.encoding)

    @property
    def folders(self) -> dict[str, dict[str, Any]]:
        """Every folder's properties by folder name; the first header's win."""
        return _merged(self.headers)

    @property
    def is_text(self) -> bool:
        """A JMS TextMessage, or MQ Format MQSTR."""
        if self.jms is not None and self.jms.body_type:
            return self.jms.body_type == jms.TEXT
        return self.md.format == FMT_STRING

    def payload(self, data_format: str) -> Any:
        """The body as a channel's ``data_format`` asks: ``auto``, ``bytes``, ``text`` or ``json``."""
        if data_format == "bytes":
            return self.body
        if data_format == "json":
            return json.loads(self.text)
        if data_format == "text" or self.is_text:
            return self.text
        return self.body

    def header_text(self) -> dict[str, str]:
        """Properties and JMS headers as text, for ``self.request.headers``."""
        found = {name: _as_text(value) for name, value in self.properties.items()}
        if self.jms is not None:
            found.update(self.jms.as_headers())
        return found


def receive(message: Message) -> Received:
    """Read a got message; a malformed MQRFH2 is named in ``problem``, never raised."""
    md = message.md
    if md.format != rfh2.FMT_RF_HEADER_2:
        return Received(message.body, md, dict(message.properties), None, (), message)
    try:
        unwrapped = rfh2.unwrap(message.body, md.format, md.encoding, md.coded_char_set_id)
    except rfh2.RFH2Error as exc:
        return Received(message.body, md, dict(message.properties), raw=message, problem=str(exc))
    inner = md.with_(
        format=unwrapped.format, encoding=unwrapped.encoding, coded_char_set_id=unwrapped.coded_char_set_id
    )
    found = _merged(unwrapped.headers)
    properties = {**found.get("usr", {}), **message.properties}
    headers = None
    if any(name in found for name in _JMS_FOLDERS):
        headers = jms.headers_of(inner, found.get("mcd", {}), found.get("jms", {}))
    return Received(unwrapped.data, inner, properties, headers, unwrapped.headers, message)


def _merged(headers: tuple[rfh2.Header, ...]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for header in headers:
        for folder in header.folders:
            merged = found.setdefault(folder.name, {})
            for name, value in folder.properties.items():
                merged.setdefault(name, value)
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
