"""The plugin registers through its entry point only, and imports light."""

from __future__ import annotations

import subprocess
import sys

from portway.plugins import load_plugins


def test_registered_through_the_entry_point():
    plugins = load_plugins([])
    status = plugins.statuses["ibm_mq"]
    assert status.status == "loaded"
    assert set(status.contributes) == {"connection:ibm_mq", "channel:ibm_mq"}
    connection = plugins.connection_type("ibm_mq")
    assert [a.name for a in connection.actions] == ["send", "browse", "depth"]
    assert "password" in connection.settings.model_fields
    assert plugins.channel_type("ibm_mq").settings.model_fields["service"].is_required()


def test_plugin_import_loads_no_mq_client_library():
    code = (
        "import sys, portway_ibm_mq.plugin; "
        "loaded = [m for m in ('ibmmq', 'pymqi', 'portway_ibm_mq.native', 'portway_ibm_mq.memory') "
        "if m in sys.modules]; print(loaded)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
