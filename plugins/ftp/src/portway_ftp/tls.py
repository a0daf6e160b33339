"""The TLS context of an FTPS connection: verified by default, like a browser."""

from __future__ import annotations

import ssl
from pathlib import Path

import structlog

from portway.files import ConnectError
from portway_ftp.errors import CertificateRejected, with_reply
from portway_ftp.settings import FtpSettings

log = structlog.get_logger("portway.ftp")


def make_context(settings: FtpSettings) -> ssl.SSLContext:
    """A client context that checks the server certificate against ``ca_file`` or the system store.

    Hostname checking stays on unless ``verify_hostname`` is false, which is
    logged as a warning every time a context is made: it lets anyone with a
    certificate from the same CA pose as the server.
    """
    for field in ("ca_file", "cert_file", "key_file"):
        value = getattr(settings, field)
        if value and not Path(value).is_file():
            raise with_reply(
                ConnectError(settings.address, f"setting {field!r}: no such file {value!r}; give a PEM file"),
                None,
            )
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except ssl.SSLError as exc:
        problem = f"setting 'ca_file': {settings.ca_file!r} is not a PEM CA file: {exc}"
        raise with_reply(ConnectError(settings.address, problem), None) from exc
    if settings.cert_file:
        password = settings.key_password.get_secret_value() if settings.key_password else None
        try:
            context.load_cert_chain(settings.cert_file, settings.key_file or None, password)
        except (ssl.SSLError, OSError) as exc:
            files = " and ".join(repr(f) for f in (settings.cert_file, settings.key_file) if f)
            raise with_reply(
                ConnectError(
                    settings.address,
                    f"settings 'cert_file'/'key_file': cannot load a client certificate from {files}: {exc}",
                ),
                None,
            ) from exc
    if not settings.verify_hostname:
        context.check_hostname = False
        log.warning(
            "ftp_hostname_check_off",
            server=settings.address,
            reason="verify_hostname is false: any certificate from a trusted CA is accepted",
        )
    return context


def certificate_error(settings: FtpSettings, exc: ssl.SSLCertVerificationError) -> CertificateRejected:
    """Explain a failed certificate check and what the user can do about it."""
    detail = exc.verify_message or str(exc)
    if "hostname" in detail.lower() or "ip address mismatch" in detail.lower():
        hint = (
            f"the certificate is not for {settings.host!r}; connect with a host name the certificate "
            "names, or (knowing the risk) set verify_hostname=false"
        )
    elif settings.ca_file:
        hint = f"the certificate is not signed by a CA in ca_file {settings.ca_file!r}"
    else:
        hint = "the certificate is not signed by a CA in the system store; give its CA as ca_file"
    error = CertificateRejected(settings.address, f"server certificate rejected ({detail}): {hint}")
    with_reply(error, None)
    return error
