"""``portway enmasse``: export and import every connection and channel, all or nothing."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_kernel_cli import fails, ok

from portway import environment
from portway.runtime import Runtime
from portway.testing import free_port

SETTINGS = ["--host", "127.0.0.1", "--port", "9"]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """An environment with two connections (one secret is a ${VAR} reference) and a channel."""
    path = tmp_path / "source"
    ok("create", str(path), "--port", str(free_port()))
    ok("conn", "create", str(path), "echo", "billing", *SETTINGS, "--token", "s3cret")
    # Not set here: a reference is checked when saved and read only when used.
    ok("conn", "create", str(path), "echo", "ledger", *SETTINGS, "--token", "${PORTWAY_LEDGER_TOKEN}")
    ok("channel", "create", str(path), "http", "hello", "--path", "/hello", "--service", "portway.ping")
    return path


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "target"
    ok("create", str(path), "--port", str(free_port()))
    return path


def _items(env: Path) -> dict[str, Any]:
    runtime = Runtime(environment.load(env))
    try:
        return {
            f"{item.kind} {item.type} {item.name}": runtime.catalog.unsealed(item)
            for kind in ("connection", "channel")
            for item in runtime.store.list(kind)
        }
    finally:
        runtime.close()


def _revision(env: Path) -> int:
    runtime = Runtime(environment.load(env))
    try:
        return runtime.store.revision()
    finally:
        runtime.close()


def test_export_writes_secrets_as_references_unless_asked(source: Path, tmp_path: Path) -> None:
    document = yaml.safe_load(ok("enmasse", "export", str(source)))
    assert document["portway"] == 1
    billing, ledger = document["connections"]
    assert billing["settings"]["token"] == "${PORTWAY_ECHO_BILLING_TOKEN}"
    assert ledger["settings"]["token"] == "${PORTWAY_LEDGER_TOKEN}"  # already a reference: kept as typed
    (channel,) = document["channels"]
    assert (channel["type"], channel["name"]) == ("http", "hello")
    assert channel["settings"]["path"] == "/hello" and channel["settings"]["service"] == "portway.ping"

    out = tmp_path / "with-secrets.yaml"
    ok("enmasse", "export", str(source), "-o", str(out), "--include-secrets")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert yaml.safe_load(out.read_text())["connections"][0]["settings"]["token"] == "s3cret"


def test_import_round_trips_into_another_environment(source: Path, target: Path, tmp_path: Path) -> None:
    exported = tmp_path / "config.yaml"
    ok("enmasse", "export", str(source), "-o", str(exported))
    variables = {"PORTWAY_ECHO_BILLING_TOKEN": "from-env", "PORTWAY_LEDGER_TOKEN": "y"}
    printed = ok("enmasse", "import", str(target), str(exported), env=variables)
    assert "3 created, 0 updated, 0 deleted, 0 unchanged" in printed
    items = _items(target)
    assert items["connection echo billing"]["token"] == "${PORTWAY_ECHO_BILLING_TOKEN}"
    assert items["channel http hello"]["path"] == "/hello"

    revision = _revision(target)
    again = ok("enmasse", "import", str(target), str(exported), env=variables)
    assert "0 created, 0 updated, 0 deleted, 3 unchanged" in again
    assert _revision(target) == revision  # nothing to write: nothing written


def test_secrets_exported_in_clear_are_sealed_with_the_target_key(
    source: Path, target: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "clear.yaml"
    ok("enmasse", "export", str(source), "-o", str(exported), "--include-secrets")
    ok("enmasse", "import", str(target), str(exported), env={"PORTWAY_LEDGER_TOKEN": "y"})
    assert _items(target)["connection echo billing"]["token"] == "s3cret"
    assert "s3cret" not in (target / "config.db").read_bytes().decode("latin-1")  # encrypted at rest


def test_one_bad_item_means_nothing_is_written(target: Path, tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(
        "portway: 1\n"
        "connections:\n"
        "- {type: echo, name: good, settings: {host: h, port: 1, token: t}}\n"
        "- {type: echo, name: bad, settings: {host: h, port: nope, token: t}}\n"
        "channels:\n"
        "- {type: http, name: web, settings: {path: /web, service: portway.ping}}\n"
    )
    revision = _revision(target)
    error = fails("enmasse", "import", str(target), str(file))
    assert "connections[1] echo 'bad'" in error and "'port'" in error
    assert _items(target) == {} and _revision(target) == revision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connections:\n- {type: echo, name: x, settings: {host: h\n", "line"),
        ("connectons: []\n", "unknown key; expected one of: portway, connections, channels"),
        ("connections:\n- {type: nosuch, name: x, settings: {}}\n", "connections[0] nosuch 'x'"),
        ("connections:\n- {type: echo, name: x, settings: {}, colour: red}\n", "connections.0.colour"),
        ("portway: 7\n", "format 7"),
        ("- just\n- a list\n", "expected a mapping"),
        (
            "connections:\n- {type: echo, name: x, settings: {host: h, port: 1, token: t}}\n"
            "- {type: echo, name: x, settings: {host: h, port: 2, token: t}}\n",
            "named twice",
        ),
    ],
)
def test_a_bad_file_is_refused_with_where_and_why(
    target: Path, tmp_path: Path, text: str, expected: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    error = fails("enmasse", "import", str(target), str(file))
    assert expected in error
    assert _items(target) == {}


def test_dry_run_shows_the_plan_and_writes_nothing(source: Path, target: Path, tmp_path: Path) -> None:
    exported = tmp_path / "clear.yaml"
    ok("enmasse", "export", str(source), "-o", str(exported), "--include-secrets")
    printed = ok("enmasse", "import", str(target), str(exported), "--dry-run")
    assert "create  echo connection 'billing'" in printed and "Dry run, nothing written" in printed
    assert _items(target) == {}


def test_delete_missing_removes_what_the_file_does_not_name(source: Path, tmp_path: Path) -> None:
    file = tmp_path / "only-billing.yaml"
    file.write_text(
        "connections:\n- {type: echo, name: billing, settings: {host: 127.0.0.1, port: 9, token: s3cret}}\n"
    )
    kept = ok("enmasse", "import", str(source), str(file))
    assert "1 unchanged" in kept and len(_items(source)) == 3
    printed = ok("enmasse", "import", str(source), str(file), "--delete-missing")
    assert "delete  echo connection 'ledger'" in printed and "delete  http channel 'hello'" in printed
    assert list(_items(source)) == ["connection echo billing"]
