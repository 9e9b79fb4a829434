"""Persistence: SQLAlchemy models, the session, migrations, the event log and bulk writes."""
