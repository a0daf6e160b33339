"""Entry point of portway-totp: declares the ``totp`` second factor."""

from __future__ import annotations

from portway import AuthFactor, hookimpl


@hookimpl
def portway_auth_factors() -> list[AuthFactor]:
    # The heavy bits (pyotp, segno) are imported by portway_totp.totp only
    # when a code is checked or a QR code drawn, so CLI start stays fast.
    from portway_totp import totp

    return [
        AuthFactor(
            name="totp",
            label="6-digit code from your authenticator app",
            new_secret=totp.new_secret,
            provisioning_uri=totp.provisioning_uri,
            verify=totp.verify,
            qr_svg=totp.qr_svg,
            qr_text=totp.qr_text,
        )
    ]
