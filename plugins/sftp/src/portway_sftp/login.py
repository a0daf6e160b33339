"""Logging in: the private keys (inline, files) in order, then the password, as OpenSSH tries them."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from portway_sftp.endpoint import Endpoint
from portway_sftp.failures import AuthenticationFailed
from portway_sftp.settings import SftpSettings

if TYPE_CHECKING:
    import paramiko


def authenticate(transport: paramiko.Transport, settings: SftpSettings, endpoint: Endpoint) -> None:
    """Try the keys, then the password; explain what the server accepts when all fail."""
    import paramiko

    tried: list[str] = []
    allowed: list[str] = []
    keys = load_keys(settings, endpoint) if endpoint.options.pubkey_auth else []
    for label, key in keys:
        try:
            transport.auth_publickey(endpoint.username, key)
            return
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
            break
        except paramiko.AuthenticationException:
            tried.append(f"key {label}")
    password = settings.password.get_secret_value() if settings.password else None
    if password is not None and endpoint.options.password_auth:
        try:
            transport.auth_password(endpoint.username, password)
            return
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
        except paramiko.AuthenticationException:
            tried.append("password")
    if not keys and password is None:
        raise AuthenticationFailed(
            endpoint.address, f"no password or private key is configured for user {endpoint.username!r}"
        )
    accepts = f"; the server accepts: {', '.join(allowed)}" if allowed else ""
    raise AuthenticationFailed(
        endpoint.address,
        f"authentication failed for user {endpoint.username!r} "
        f"(tried {', '.join(tried) or 'nothing it accepts'}){accepts}",
    )


def load_keys(settings: SftpSettings, endpoint: Endpoint) -> list[tuple[str, paramiko.PKey]]:
    """Private keys to offer: the inline one, then key files; a missing default file is skipped."""
    import paramiko

    passphrase = settings.passphrase.get_secret_value() if settings.passphrase else None
    found: list[tuple[str, paramiko.PKey]] = []
    if settings.private_key is not None:
        text = settings.private_key.get_secret_value()
        found.append(("(inline)", _parse_inline(text, passphrase, endpoint)))
    for path in endpoint.identity_files:
        if not os.path.exists(path):
            if settings.private_key_file and Path(settings.private_key_file).expanduser() == Path(path):
                raise AuthenticationFailed(path, "private_key_file does not exist; fix the path")
            continue
        try:
            # from_path hands the passphrase to cryptography, which wants bytes.
            secret = passphrase.encode() if passphrase is not None else None
            found.append((path, paramiko.PKey.from_path(path, secret)))  # type: ignore[arg-type]
        except paramiko.PasswordRequiredException as exc:
            raise AuthenticationFailed(path, "the private key is encrypted; set passphrase") from exc
        except TypeError as exc:  # cryptography's way of saying a passphrase is needed
            if passphrase is None and "password" in str(exc).lower():
                raise AuthenticationFailed(path, "the private key is encrypted; set passphrase") from exc
            raise AuthenticationFailed(path, _key_problem(exc, passphrase)) from exc
        except (paramiko.SSHException, ValueError) as exc:
            raise AuthenticationFailed(path, _key_problem(exc, passphrase)) from exc
        except OSError as exc:
            raise AuthenticationFailed(path, f"cannot read the private key: {exc.strerror}") from exc
    return found


def _parse_inline(text: str, passphrase: str | None, endpoint: Endpoint) -> paramiko.PKey:
    import paramiko

    problem = "not a private key in OpenSSH or PEM format"
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            key: paramiko.PKey = kind.from_private_key(io.StringIO(text), passphrase)
            return key
        except paramiko.PasswordRequiredException as exc:
            raise AuthenticationFailed(
                "private_key", "the inline private key is encrypted; set passphrase"
            ) from exc
        except (paramiko.SSHException, ValueError) as exc:
            problem = _key_problem(exc, passphrase)
    raise AuthenticationFailed("private_key", problem)


def _key_problem(exc: BaseException, passphrase: str | None) -> str:
    if passphrase is not None:
        return f"the passphrase is wrong for this private key, or the key is damaged ({exc})"
    return f"cannot load the private key: {exc}"
