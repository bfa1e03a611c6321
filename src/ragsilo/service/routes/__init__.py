"""The routes of the HTTP API, one small module per concern."""
