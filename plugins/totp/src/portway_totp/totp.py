"""RFC 6238 time-based one-time passwords: SHA1, 6 digits, 30 s steps, ±1 step.

These are the parameters every common authenticator app (Google
Authenticator, Authy, FreeOTP, 1Password...) uses by default, so the
``otpauth://`` URI works everywhere.
"""

from __future__ import annotations

import hmac
import io
import re
import time

DIGITS = 6
PERIOD_S = 30
DRIFT_STEPS = 1
_CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """A random 160-bit secret, base32 (the size RFC 4226 recommends for SHA1)."""
    import pyotp

    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER`` URI, parameters spelled out."""
    import pyotp

    uri = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S).provisioning_uri(
        name=account, issuer_name=issuer
    )
    # pyotp leaves the defaults out; spell them so no app has to guess.
    for key, value in (("algorithm", "SHA1"), ("digits", str(DIGITS)), ("period", str(PERIOD_S))):
        if f"{key}=" not in uri:
            uri += f"&{key}={value}"
    return uri


def verify(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` is valid for (now ±1 step), or ``None``.

    Steps at or before ``last_step`` are never accepted, so a code that
    was used once (or an older one) cannot be replayed.
    """
    import pyotp

    code = code.replace(" ", "").strip()
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S)
    current = int((time.time() if now is None else now) // PERIOD_S)
    matched = None
    # Compare every candidate (no early exit) so timing says nothing about which step matched.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * PERIOD_S), code) and matched is None:
            matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched


def qr_svg(uri: str) -> str:
    """The URI as an SVG QR code (black on white, quiet zone included)."""
    import segno

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, light="#fff", xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def qr_text(uri: str) -> str:
    """The URI as a QR code drawn with block characters for a terminal."""
    import segno

    buffer = io.StringIO()
    segno.make(uri, error="m").terminal(out=buffer, compact=True)
    return buffer.getvalue()
