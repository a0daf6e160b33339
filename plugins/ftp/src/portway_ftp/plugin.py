"""Entry point of portway-ftp."""
