"""Server-side console sessions: the cookie holds a random id, the table the state.

A session moves through stages: ``anon`` (just a CSRF token for the login
form), ``factor`` (password accepted, second factor still owed: not logged
in) and ``full``. Every change of stage issues a new id and deletes the old
row, so an id seen before login is worthless after it.

``anon`` sessions are not stored: their id is a signed, timestamped nonce
and their CSRF token is derived from it, so showing the login page to
anyone costs no database write (a flood of login-page requests cannot fill
the table).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from portway.console import schema
from portway.database import Database

Stage = Literal["anon", "factor", "full"]
ANON_TTL_S = 30 * 60
FACTOR_TTL_S = 5 * 60


@dataclass(frozen=True)
class ConsoleSession:
    """One session; ``token`` is the cookie value and lives only in memory."""

    token: str
    user: str | None
    stage: Stage
    csrf: str
    expires_at: float

    @property
    def logged_in(self) -> bool:
        return self.stage == "full" and self.user is not None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (from a hostile client) calmly."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


class Sessions:
    """The ``console_sessions`` table, and the signed ids of anonymous sessions."""

    def __init__(self, db: Database, ttl_s: int, signing_key: bytes) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._key = signing_key
        schema.create_tables(db)

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def _anon(self) -> ConsoleSession:
        issued = int(time.time())
        nonce = f"{issued}-{secrets.token_urlsafe(16)}"
        token = f"a.{nonce}.{self._sign('id:' + nonce)}"
        return ConsoleSession(token, None, "anon", self._sign("csrf:" + nonce), issued + ANON_TTL_S)

    def _anon_of(self, token: str) -> ConsoleSession | None:
        _, nonce, mac = [*token.split(".", 2), "", ""][:3]
        if not same(mac, self._sign("id:" + nonce)):
            return None
        issued = int(nonce.split("-", 1)[0]) if nonce.split("-", 1)[0].isdigit() else 0
        if issued + ANON_TTL_S < time.time():
            return None
        return ConsoleSession(token, None, "anon", self._sign("csrf:" + nonce), issued + ANON_TTL_S)

    def start(self, user: str | None = None, stage: Stage = "anon") -> ConsoleSession:
        if stage == "anon":
            return self._anon()
        ttl = FACTOR_TTL_S if stage == "factor" else self.ttl_s
        now = time.time()
        session = ConsoleSession(secrets.token_urlsafe(32), user, stage, secrets.token_urlsafe(32), now + ttl)
        with self.db.transaction(write=True) as tx:
            # Expired rows go on each new session, so the table cannot grow without bound.
            tx.execute("DELETE FROM console_sessions WHERE expires_at < ?", (now,))
            tx.execute(
                'INSERT INTO console_sessions (id_hash, "user", stage, csrf, created_at, expires_at) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(session.token), user, stage, session.csrf, now, session.expires_at),
            )
        return session

    def get(self, token: str | None) -> ConsoleSession | None:
        if not token:
            return None
        if token.startswith("a."):
            return self._anon_of(token)
        with self.db.transaction() as tx:
            row = tx.one("SELECT * FROM console_sessions WHERE id_hash = ?", (_hash(token),))
        if row is None or row["expires_at"] < time.time():
            return None
        return ConsoleSession(token, row["user"], row["stage"], row["csrf"], row["expires_at"])

    def rotate(self, old: ConsoleSession | None, user: str | None, stage: Stage) -> ConsoleSession:
        """End ``old`` and start a new session with a new id (no fixation)."""
        if old is not None:
            self.end(old.token)
        return self.start(user, stage)

    def end(self, token: str) -> None:
        if token.startswith("a."):
            return  # nothing stored; it expires by itself
        with self.db.transaction(write=True) as tx:
            tx.execute("DELETE FROM console_sessions WHERE id_hash = ?", (_hash(token),))

    def end_user(self, user: str) -> None:
        """Log a user out everywhere (after a key reset or deletion)."""
        with self.db.transaction(write=True) as tx:
            tx.execute('DELETE FROM console_sessions WHERE "user" = ?', (user,))
