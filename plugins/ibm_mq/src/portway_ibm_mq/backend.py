"""Picking a backend from a connection's settings: the in-memory queue manager or IBM MQ.

Both are imported only when a connection opens, so loading the plugin loads
no MQ client library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portway_ibm_mq.session import Session
    from portway_ibm_mq.settings import MQConnectionSettings

MEMORY_PREFIX = "memory:"


def open_session(settings: MQConnectionSettings) -> Session:
    """Connect with the backend the settings name."""
    if settings.backend.startswith(MEMORY_PREFIX):
        from portway_ibm_mq import memory

        manager = memory.queue_manager(settings.backend[len(MEMORY_PREFIX) :])
        password = settings.password.get_secret_value() if settings.password else ""
        return manager.connect(settings.queue_manager, settings.user, password)
    from portway_ibm_mq import native

    return native.connect(settings)
