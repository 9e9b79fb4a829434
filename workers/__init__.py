"""Celery workers and beat: thin tasks that call engine services (docs/operations.md)."""
