"""Entry point of portway-totp."""
