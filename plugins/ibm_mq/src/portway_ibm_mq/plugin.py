"""Entry point of portway-ibm-mq."""
