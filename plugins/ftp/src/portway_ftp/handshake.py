"""Opening a session: TLS (AUTH TLS, PROT P), the login, FEAT, and reading PWD's reply.

Each failure is a :class:`~portway.files.ConnectError` saying what to change:
the TLS mode or port, the user name or password, the CA.
"""

from __future__ import annotations

import ftplib
import socket
import ssl

from portway.files import ConnectError, FileError
from portway_ftp.control import ControlConnection
from portway_ftp.errors import LoginRefused, TlsRefused, reason_of, reply_code, with_reply
from portway_ftp.settings import FtpSettings, TlsMode
from portway_ftp.tls import certificate_error


def parse_pwd(reply: str) -> str | None:
    """The directory in ``257 "/a ""quoted"" dir" is current``; doubled quotes are one quote."""
    start = reply.find('"')
    if start < 0:
        return None
    out, index = [], start + 1
    while index < len(reply):
        char = reply[index]
        if char == '"':
            if reply[index + 1 : index + 2] == '"':
                out.append('"')
                index += 2
                continue
            return "".join(out)
        out.append(char)
        index += 1
    return None


def features_of(control: ControlConnection) -> dict[str, str]:
    """FEAT as ``{"MLST": "type*;size*;...", "UTF8": "", ...}``; empty when FEAT is refused."""
    try:
        reply = control.sendcmd("FEAT")
    except ftplib.Error:
        return {}
    features: dict[str, str] = {}
    for line in reply.splitlines()[1:]:
        if line.startswith(" "):
            name, _, params = line.strip().partition(" ")
            features[name.upper()] = params
    return features


def secure(control: ControlConnection, address: str) -> None:
    try:
        control.auth()
    except ftplib.Error as exc:
        raise with_reply(
            TlsRefused(
                address,
                f"the server refused AUTH TLS ({exc}); it may not offer FTPS on this port: "
                "check tls (explicit or implicit) and port",
            ),
            str(exc),
        ) from exc


def log_in(control: ControlConnection, settings: FtpSettings) -> None:
    password = settings.password.get_secret_value() if settings.password else ""
    try:
        control.login(settings.username, password, secure=False)
    except ftplib.Error as exc:
        reply = str(exc)
        code = reply_code(reply)
        wants_tls = any(word in reply.lower() for word in ("encrypt", "ssl", "tls", "secure"))
        if settings.tls is TlsMode.NONE and (code in (522, 534) or wants_tls):
            raise with_reply(
                TlsRefused(
                    settings.address, f"login refused: {reply}; the server wants FTPS: set tls=explicit"
                ),
                reply,
            ) from exc
        if code in (530, 331, 332) or code // 100 == 3:
            raise with_reply(
                LoginRefused(
                    settings.address,
                    f"login as {settings.username!r} refused: {reply}; check username and password",
                ),
                reply,
            ) from exc
        raise with_reply(ConnectError(settings.address, f"login refused: {reply}"), reply) from exc


def protect_data(control: ControlConnection, address: str) -> None:
    try:
        control.prot_p()
    except ftplib.Error as exc:
        raise with_reply(
            TlsRefused(address, f"the server refused PROT P (encrypted data connections): {exc}"),
            str(exc),
        ) from exc


def connect_error(settings: FtpSettings, exc: BaseException) -> FileError:
    address = settings.address
    if isinstance(exc, ssl.SSLCertVerificationError):
        return certificate_error(settings, exc)
    if isinstance(exc, ssl.SSLError):
        hint = (
            "is the server speaking implicit TLS on this port? try tls=explicit"
            if settings.tls is TlsMode.IMPLICIT
            else "is this an FTPS port? try tls=implicit or the explicit port"
        )
        return with_reply(TlsRefused(address, f"TLS handshake failed: {reason_of(exc)}; {hint}"), None)
    if isinstance(exc, socket.gaierror):
        return with_reply(ConnectError(address, f"unknown host {settings.host!r}: {exc.strerror}"), None)
    if isinstance(exc, TimeoutError):
        waited = f"{settings.connect_timeout_s:g}s"
        return with_reply(ConnectError(address, f"no answer within {waited} (connect_timeout_s)"), None)
    if isinstance(exc, ConnectionRefusedError):
        refused = "connection refused: is the server running on this port?"
        return with_reply(ConnectError(address, refused), None)
    if isinstance(exc, ftplib.Error):
        return with_reply(ConnectError(address, f"the server refused the session: {exc}"), str(exc))
    if isinstance(exc, OSError | EOFError):
        return with_reply(ConnectError(address, f"cannot connect: {reason_of(exc)}"), None)
    return with_reply(ConnectError(address, f"cannot connect: {type(exc).__name__}: {exc}"), None)
