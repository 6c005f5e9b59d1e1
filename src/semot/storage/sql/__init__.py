"""SQLAlchemy Core implementation of Storage for SQLite and PostgreSQL (one schema)."""
