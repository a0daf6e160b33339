"""`portway admin ...` run as a user would, in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result

from portway import environment
from portway.console.users import AdminUsers
from portway.encryption import SecretBox
from portway.store import Store

PORTWAY = str(Path(sys.executable).with_name("portway"))


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([PORTWAY, *args], input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture
def env_path(tmp_path: Path) -> str:
    return str(environment.create(tmp_path / "env").root)


def _users(env_path: str) -> tuple[AdminUsers, Store]:
    env = environment.load(env_path)
    store = Store.open(env)
    return AdminUsers(store.db, SecretBox(env.secrets_key)), store


def _scalar(store: Store, sql: str) -> object:
    with store.db.transaction() as tx:
        return tx.scalar(sql)


def test_create_user_reset_totp_list_and_delete(env_path: str) -> None:
    created = run("admin", "create-user", env_path, "carol", "--password-stdin", stdin="a long passphrase\n")
    assert created.returncode == 0, created.stderr
    users, store = _users(env_path)
    try:
        assert users.verify_password("carol", "a long passphrase")
        assert not users.verify_password("carol", "a long passphrase ")
        row = _scalar(store, "select password_hash from console_users")
        assert str(row).startswith("$argon2id$")
    finally:
        store.close()

    reset = run("admin", "reset-totp", env_path, "carol")
    assert reset.returncode == 0, reset.stderr
    uri = re.search(r"otpauth://totp/\S+", reset.stdout).group(0)
    assert uri.startswith("otpauth://totp/portway:carol?")
    assert "█" in reset.stdout or "▀" in reset.stdout  # the terminal QR code
    codes = re.findall(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b", reset.stdout)
    assert len(codes) == 10
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    users, store = _users(env_path)
    try:
        assert users.factor_secret("carol") == secret
        # Encrypted at rest: the stored column is not the secret.
        stored = _scalar(store, "select factor_secret from console_users")
        assert secret not in str(stored)
        assert pyotp.TOTP(secret).now()
    finally:
        store.close()

    listed = run("admin", "list-users", env_path)
    assert (
        "carol" in listed.stdout and "totp key set" in listed.stdout and "10 recovery codes" in listed.stdout
    )

    deleted = run("admin", "delete-user", env_path, "carol")
    assert deleted.returncode == 0, deleted.stderr
    assert "no console users" in run("admin", "list-users", env_path).stdout


def cli_run(*args: str, stdin: str = "") -> Result:
    """The same command line, in-process (the bad-input cases need no fresh interpreter)."""
    from portway.cli import cli

    return CliRunner().invoke(cli, list(args), input=stdin)


def test_bad_input_is_refused_with_a_clear_message(env_path: str) -> None:
    short = cli_run("admin", "create-user", env_path, "dave", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1
    assert "password" in short.output and "at least 10" in short.output
    bad_name = cli_run(
        "admin", "create-user", env_path, "bad name", "--password-stdin", stdin="long enough pw\n"
    )
    assert bad_name.exit_code == 1 and "user name" in bad_name.output
    missing = cli_run("admin", "reset-totp", env_path, "nobody")
    assert missing.exit_code == 1 and "nobody" in missing.output
    assert cli_run("admin", "delete-user", env_path, "nobody").exit_code == 1
    assert "no console users" in cli_run("admin", "list-users", env_path).output
    first = cli_run("admin", "create-user", env_path, "erin", "--password-stdin", stdin="long enough pw\n")
    again = cli_run("admin", "create-user", env_path, "erin", "--password-stdin", stdin="long enough pw\n")
    assert first.exit_code == 0 and again.exit_code == 1
    assert "exists already" in again.output
    mismatch = cli_run("admin", "create-user", env_path, "frank", stdin="long enough pw\nsomething else\n")
    assert mismatch.exit_code != 0
    assert "frank" not in cli_run("admin", "list-users", env_path).output
