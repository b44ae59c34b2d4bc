"""Danbyte wiring: settings, database, embedded services, ASGI app, CLI."""
