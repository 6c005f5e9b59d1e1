"""Alembic environment: always handed a live connection by semot.storage.sql.migrate."""

from __future__ import annotations

from alembic import context

from semot.storage.sql.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `semot migrate`, which supplies the database connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
