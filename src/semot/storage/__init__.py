"""Persistence behind one interface (base.py); sql/ implements it for SQLite and PostgreSQL."""
