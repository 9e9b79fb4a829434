"""The web face: REST API, dashboard pages and the public unsubscribe endpoint (FastAPI)."""
