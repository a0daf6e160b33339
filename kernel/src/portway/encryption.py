"""Secrets at rest: Fernet with the key in ``ENV/secrets.key`` (mode 0600)."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from portway.errors import ConfigError
from portway.keyfiles import write_private


def new_key_file(path: Path) -> None:
    write_private(path, Fernet.generate_key().decode() + "\n")


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
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise ConfigError(str(key_path), "not a valid Fernet key") from exc

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str, where: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                where, f"cannot decrypt the secret with {self.key_path}; was the key replaced?"
            ) from None
