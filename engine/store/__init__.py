"""Persistence: SQLAlchemy models, the database session, repositories and migrations."""
