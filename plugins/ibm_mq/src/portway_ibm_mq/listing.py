"""A browsed message as one flat row: what the console's table and ``portway mq browse`` show."""

from __future__ import annotations

from typing import Any

from portway_ibm_mq.received import Received


def summary(position: int, message: Received, body_chars: int) -> dict[str, Any]:
    """One row per message; the same keys for every message so they line up as a table."""
    md = message.md
    headers = message.jms
    stamp = md.put_datetime
    return {
        "#": position,
        "msg_id": md.msg_id.hex(),
        "correl_id": md.correl_id.hex(),
        "put_at": stamp.isoformat(timespec="milliseconds") if stamp else "",
        "priority": md.priority,
        "persistent": md.persistent,
        "format": md.format,
        "backout_count": md.backout_count,
        "reply_to": md.reply_to_q,
        "size": len(message.body),
        "jms": headers.body_type if headers else "",
        "JMSCorrelationID": (headers.correlation_id or "") if headers else "",
        "JMSDestination": (headers.destination or "") if headers else "",
        "JMSType": (headers.type or "") if headers else "",
        "properties": ", ".join(
            f"{k}={v}" for k, v in message.header_text().items() if not k.startswith("JMS")
        ),
        "body": _preview(message, body_chars),
        "problem": message.problem,
    }


def _preview(message: Received, chars: int) -> str:
    if not message.problem and message.is_text:
        try:
            text = message.text
        except (UnicodeDecodeError, ValueError):
            return message.body[: chars // 2].hex()
        return text[:chars] + ("…" if len(text) > chars else "")
    return message.body[: chars // 2].hex() + ("…" if len(message.body) * 2 > chars else "")
