"""Entry point of portway-sftp."""
