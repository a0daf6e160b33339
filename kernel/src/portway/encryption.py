"""Secrets at rest: Fernet with the key in ``ENV/secrets.key`` (mode 0600).

``cryptography`` is imported on the first encrypt or decrypt: a server whose
connections hold no secret, and most CLI commands, never need it.
"""

from __future__ import annotations

import base64
import binascii
import stat
from pathlib import Path
from typing import Any

from portway.errors import ConfigError
from portway.keyfiles import write_private


def new_key_file(path: Path) -> None:
    from cryptography.fernet import Fernet

    write_private(path, Fernet.generate_key().decode() + "\n")


def _is_fernet_key(key: bytes) -> bool:
    """What Fernet itself checks: 32 bytes in url-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except (binascii.Error, ValueError):
        return False


class SecretBox:
    """Encrypts and decrypts setting values with the environment's key."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        try:
            mode = key_path.stat().st_mode
            key = key_path.read_bytes().strip()
        except FileNotFoundError:
            raise ConfigError(
                str(key_path),
                "secrets key file is missing; restore it from backup "
                "(secrets stored with another key cannot be read)",
            ) from None
        except OSError as exc:
            raise ConfigError(str(key_path), f"cannot read the secrets key: {exc.strerror}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(str(key_path), f"must be readable by its owner only: chmod 600 {key_path}")
        if not _is_fernet_key(key):
            raise ConfigError(str(key_path), "not a valid Fernet key")
        self._key = key
        self._fernet: Any = None

    def _cipher(self) -> Any:
        if self._fernet is None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(self._key)
        return self._fernet

    def encrypt(self, text: str) -> str:
        return str(self._cipher().encrypt(text.encode()).decode())

    def decrypt(self, token: str, where: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return str(self._cipher().decrypt(token.encode()).decode())
        except InvalidToken:
            raise ConfigError(
                where, f"cannot decrypt the secret with {self.key_path}; was the key replaced?"
            ) from None
