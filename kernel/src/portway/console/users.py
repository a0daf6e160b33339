"""Console admin users: Argon2id password hashes, second-factor secrets, recovery codes.

Factor secrets are sealed with the environment's :class:`~portway.encryption.SecretBox`
before they are stored. Recovery codes carry 80 random bits each, so a
SHA-256 of them is as safe to keep as a slow hash and lets a code be found
without trying every stored hash.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from portway.console import schema
from portway.database import Database, Row
from portway.encryption import SecretBox
from portway.errors import ConfigError, ConflictError, NotFoundError

MIN_PASSWORD = 10
RECOVERY_CODES = 10
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")


@dataclass(frozen=True)
class AdminUser:
    """A console user as listed: never holds the hash or the secret."""

    name: str
    has_factor: bool
    recovery_left: int
    created_at: float


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ConfigError(f"user name {name!r}", "use 1 to 100 letters, digits, '.', '_', '@' or '-'")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigError("password", f"too short; use at least {MIN_PASSWORD} characters")


def _hasher() -> Any:
    from argon2 import PasswordHasher

    # argon2-cffi's defaults are Argon2id with the RFC 9106 low-memory profile.
    return PasswordHasher()


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").upper().encode()).hexdigest()


def new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 80 bits, 16 chars
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


class AdminUsers:
    """The ``console_users`` table."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box
        schema.create_tables(db)
        self._dummy_hash: str | None = None

    def create(self, name: str, password: str) -> None:
        """Add a user; raise :class:`ConflictError` if the name is taken."""
        check_name(name)
        check_password(password)
        hashed = _hasher().hash(password)
        with self.db.transaction(write=True) as tx:
            if tx.one("SELECT name FROM console_users WHERE name = ?", (name,)):
                raise ConflictError("console user", name)
            tx.execute(
                "INSERT INTO console_users (name, password_hash, recovery_codes, created_at) "
                "VALUES (?, ?, '[]', ?)",
                (name, hashed, time.time()),
            )

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        self._update(name, password_hash=_hasher().hash(password))

    def delete(self, name: str) -> None:
        """Remove a user and end their sessions."""
        with self.db.transaction(write=True) as tx:
            gone = tx.execute("DELETE FROM console_users WHERE name = ?", (name,))
            tx.execute('DELETE FROM console_sessions WHERE "user" = ?', (name,))
        if not gone:
            raise NotFoundError("console user", name, "see `portway admin list-users ENV`")

    def all(self) -> list[AdminUser]:
        with self.db.transaction() as tx:
            rows = tx.all("SELECT * FROM console_users ORDER BY name")
        return [self._user(row) for row in rows]

    def get(self, name: str) -> AdminUser | None:
        row = self._row(name)
        return self._user(row) if row else None

    def verify_password(self, name: str, password: str) -> bool:
        """Check a password in constant-ish time, whether or not the user exists."""
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = _hasher()
        row = self._row(name)
        if row is None:
            # Spend the same work as for a real user so timing does not reveal names.
            if self._dummy_hash is None:
                self._dummy_hash = hasher.hash(secrets.token_hex(16))
            with contextlib.suppress(VerificationError):
                hasher.verify(self._dummy_hash, password)
            return False
        try:
            hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(row["password_hash"]):
            self._update(name, password_hash=hasher.hash(password))
        return True

    # second factor

    def factor_secret(self, name: str) -> str | None:
        row = self._row(name)
        if row is None or not row["factor_secret"]:
            return None
        return self.box.decrypt(row["factor_secret"], f"console user {name!r} second-factor secret")

    def last_step(self, name: str) -> int | None:
        row = self._row(name)
        return None if row is None else row["last_step"]

    def set_factor_secret(self, name: str, secret: str) -> None:
        """Replace the user's secret at once (the CLI's reset); forget the old replay step."""
        self._update(name, factor_secret=self.box.encrypt(secret), pending_secret=None, last_step=None)

    def set_pending_secret(self, name: str, secret: str) -> None:
        self._update(name, pending_secret=self.box.encrypt(secret))

    def pending_secret(self, name: str) -> str | None:
        row = self._row(name)
        if row is None or not row["pending_secret"]:
            return None
        return self.box.decrypt(row["pending_secret"], f"console user {name!r} pending secret")

    def confirm_pending(self, name: str, step: int) -> None:
        """Make the pending secret the user's secret; ``step`` was just accepted with it."""
        with self.db.transaction(write=True) as tx:
            row = tx.one("SELECT pending_secret FROM console_users WHERE name = ?", (name,))
            if row is None or not row["pending_secret"]:
                raise NotFoundError("pending second-factor key of user", name, "start the rotation again")
            tx.execute(
                "UPDATE console_users SET factor_secret = ?, pending_secret = NULL, last_step = ? "
                "WHERE name = ?",
                (row["pending_secret"], step, name),
            )

    def accept_step(self, name: str, step: int) -> bool:
        """Record ``step`` as used; ``False`` if it (or a later one) was used already.

        One conditional UPDATE, so two requests racing with the same code
        cannot both win.
        """
        with self.db.transaction(write=True) as tx:
            changed = tx.execute(
                "UPDATE console_users SET last_step = ? "
                "WHERE name = ? AND (last_step IS NULL OR last_step < ?)",
                (step, name, step),
            )
        return bool(changed)

    # recovery codes

    def new_recovery_codes(self, name: str) -> list[str]:
        """Replace the user's recovery codes; return the new ones (shown once)."""
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        self._update(name, recovery_codes=json.dumps([_code_hash(c) for c in codes]))
        return codes

    def use_recovery_code(self, name: str, code: str) -> bool:
        """Spend one recovery code; ``True`` if it was valid and unused."""
        wanted = _code_hash(code)
        with self.db.transaction(write=True) as tx:
            old = tx.scalar("SELECT recovery_codes FROM console_users WHERE name = ?", (name,))
            if old is None:
                return False
            stored: list[str] = json.loads(old or "[]")
            hit = next((h for h in stored if hmac.compare_digest(h, wanted)), None)
            if hit is None:
                return False
            stored.remove(hit)
            # Compare-and-set on the old list: a concurrent use of the same code loses.
            changed = tx.execute(
                "UPDATE console_users SET recovery_codes = ? WHERE name = ? AND recovery_codes = ?",
                (json.dumps(stored), name, old),
            )
        return bool(changed)

    def _row(self, name: str) -> Row | None:
        with self.db.transaction() as tx:
            return tx.one("SELECT * FROM console_users WHERE name = ?", (name,))

    def _update(self, name: str, **values: Any) -> None:
        assignments = ", ".join(f"{column} = ?" for column in values)  # column names are ours, not input
        with self.db.transaction(write=True) as tx:
            changed = tx.execute(
                f"UPDATE console_users SET {assignments} WHERE name = ?", (*values.values(), name)
            )
        if not changed:
            raise NotFoundError("console user", name, "see `portway admin list-users ENV`")

    @staticmethod
    def _user(row: Row) -> AdminUser:
        return AdminUser(
            name=row["name"],
            has_factor=bool(row["factor_secret"]),
            recovery_left=len(json.loads(row["recovery_codes"] or "[]")),
            created_at=row["created_at"],
        )
