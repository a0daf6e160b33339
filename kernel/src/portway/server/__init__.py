"""The HTTP server: HTTP channels, the admin REST API and the web console."""
