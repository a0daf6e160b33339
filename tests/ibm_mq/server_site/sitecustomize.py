"""Loaded at start by a portway server a test runs with this folder on PYTHONPATH (test code only).

Loads IBM's ``ibmmq`` over the stand-in for its C extension, and opens the
listeners ``PORTWAY_TEST_MQ_LISTENERS`` names (``host(port)=QM;...``), each
reaching the server process's in-memory queue manager ``QM``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ibmmqc_standin

from portway_ibm_mq import memory

ibmmqc_standin.install()
for spec in filter(None, os.environ.get("PORTWAY_TEST_MQ_LISTENERS", "").split(";")):
    conn_name, _, name = spec.partition("=")
    ibmmqc_standin.listen(conn_name, memory.queue_manager(name))
