"""portway-sftp."""
