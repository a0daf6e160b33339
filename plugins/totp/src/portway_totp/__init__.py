"""portway-totp."""
