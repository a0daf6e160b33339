"""portway-ibm-mq."""
