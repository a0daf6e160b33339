"""portway-ftp."""
