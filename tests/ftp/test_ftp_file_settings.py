"""The FTPS file settings (ca_file, cert_file, key_file): confined, and their text never shown."""

from __future__ import annotations

from typing import Any

import pytest

from portway.errors import ConnectionFailed, SettingError

SECRET = "PORTWAY-LEAK-hunter2-Zq81"
PASSWORD = "s3cret-Pass"  # as in conftest.py


def _settings(servers: Any, **files: str) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": servers.port("explicit"),
        "username": "tester",
        "password": PASSWORD,
        "tls": "explicit",
        **files,
    }


@pytest.mark.parametrize("field", ["ca_file", "cert_file"])
def test_a_pem_file_that_is_no_pem_is_named_not_shown(
    portway_runtime: Any, portway_env: Any, servers: Any, field: str
) -> None:
    bogus = portway_env.root / "certs" / "bogus.pem"
    bogus.parent.mkdir()
    bogus.write_text(f"-----BEGIN CERTIFICATE-----\n{SECRET}\n-----END CERTIFICATE-----\n")
    files = (
        {field: str(bogus)}
        if field == "ca_file"
        else {"ca_file": str(servers.certs.ca_file), field: str(bogus)}
    )
    portway_runtime.catalog.create("connection", "ftp", "tls", _settings(servers, **files))
    with pytest.raises(ConnectionFailed, match=field) as caught:
        portway_runtime.connections.ping("ftp", "tls")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("field", ["ca_file", "cert_file", "key_file"])
def test_the_environments_keys_are_refused(
    portway_runtime: Any, portway_env: Any, servers: Any, field: str
) -> None:
    files = {"ca_file": str(servers.certs.ca_file), "cert_file": str(servers.certs.client_cert_file)}
    files[field] = str(portway_env.secrets_key)
    with pytest.raises(SettingError, match=f"'{field}'.*this environment's key"):
        portway_runtime.catalog.create("connection", "ftp", "steal", _settings(servers, **files))
