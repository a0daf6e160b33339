"""``portway admin``: web console users and their second factor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from portway.console.users import AdminUsers


@contextmanager
def _users(env_path: str) -> Iterator[AdminUsers]:
    from portway import environment
    from portway.console.users import AdminUsers
    from portway.encryption import SecretBox
    from portway.store import Store

    env = environment.load(env_path)
    store = Store.open(env)
    try:
        yield AdminUsers(store.db, SecretBox(env.secrets_key))
    finally:
        store.close()


def _end_sessions(users: AdminUsers, name: str) -> None:
    from portway.console.sessions import Sessions

    # Only stored sessions are ended by user; the signing key is not needed for that.
    Sessions(users.db, 1, b"").end_user(name)


@click.group()
def admin() -> None:
    """Manage web console users and their second factor."""


@admin.command("create-user")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
def create_user(env: str, name: str, password_stdin: bool) -> None:
    """Add console user NAME; asks for the password twice (or reads it from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _users(env) as users:
        users.create(name, password)
    click.echo(f"created console user {name!r}")
    click.echo(
        f"if the console asks for a second factor, give them a key: portway admin reset-totp {env} {name}"
    )


@admin.command("reset-totp")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("user")
@click.option("--no-qr", is_flag=True, help="Print the otpauth URI only, no QR code.")
def reset_totp(env: str, user: str, no_qr: bool) -> None:
    """Give USER a new TOTP key (the old one stops working) and new recovery codes.

    Prints the otpauth:// URI and a QR code to scan with an authenticator
    app, and ends the user's console sessions.
    """
    from portway import environment
    from portway.console.account import ISSUER
    from portway.errors import ConfigError
    from portway.plugins import load_plugins

    loaded = environment.load(env)
    plugins = load_plugins(loaded.settings.plugins.disabled)
    factor = plugins.auth_factors.get("totp")
    if factor is None:
        status = plugins.statuses.get("totp")
        why = status.label if status else "not installed"
        raise ConfigError("plugin 'totp'", f"{why}; install portway-totp to use TOTP keys")
    with _users(env) as users:
        if users.get(user) is None:
            from portway.errors import NotFoundError

            raise NotFoundError("console user", user, f"see `portway admin list-users {env}`")
        secret = factor.new_secret()
        users.set_factor_secret(user, secret)
        codes = users.new_recovery_codes(user)
        _end_sessions(users, user)
    uri = factor.provisioning_uri(secret, user, ISSUER)
    if not no_qr:
        click.echo(factor.qr_text(uri))
    click.echo(uri)
    click.echo("")
    click.echo("recovery codes (each works once; store them safely, they are not shown again):")
    for code in codes:
        click.echo(f"  {code}")


@admin.command("delete-user")
@click.argument("env", type=click.Path(file_okay=False))
@click.argument("name")
def delete_user(env: str, name: str) -> None:
    """Remove console user NAME and end their sessions."""
    with _users(env) as users:
        users.delete(name)
    click.echo(f"deleted console user {name!r}")


@admin.command("list-users")
@click.argument("env", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_users(env: str, as_json: bool) -> None:
    """List console users, whether each has a second-factor key, recovery codes left."""
    with _users(env) as users:
        found = users.all()
    if as_json:
        import json

        click.echo(json.dumps([u.__dict__ for u in found], indent=2))
        return
    if not found:
        click.echo(f"no console users; add one with `portway admin create-user {env} NAME`")
        return
    for u in found:
        created = datetime.fromtimestamp(u.created_at, UTC).strftime("%Y-%m-%d %H:%M")
        key = "totp key set" if u.has_factor else "no second-factor key"
        click.echo(f"{u.name}\t{key}\t{u.recovery_left} recovery codes\tcreated {created} UTC")
