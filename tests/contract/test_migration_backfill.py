"""Migrations that backfill data do it right on a database that already has data."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from semot.storage.sql.migrate import alembic_config


def test_0005_lists_existing_groups_by_their_type_and_settings(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0004")
        rows = [
            ("p1", "Ärger Project", "project", {"join": "approval"}, None),  # stored before `searchable` existed
            ("p2", "Closed project", "project", {"join": "closed"}, None),
            ("t1", "Lunch", "temporary", {"join": "open"}, None),
            ("t2", "Lunch, listed", "temporary", {"join": "open", "searchable": True}, None),
            ("d1", "Sales dept", "department", {"join": "closed"}, None),
            ("p3", "Old project", "project", {"join": "open"}, 123),  # dismissed
        ]
        for gid, name, kind, settings, dismissed in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO groups (id, name, owner_id, created_at, settings, kind, dismissed_at) "
                    "VALUES (:id, :name, 'o', 1, :settings, :kind, :dismissed)"
                ),
                {"id": gid, "name": name, "settings": json.dumps(settings), "kind": kind, "dismissed": dismissed},
            )
        command.upgrade(alembic_config(conn), "head")
        got = {r.id: (r.name_key, bool(r.listed)) for r in conn.execute(sa.text("SELECT id, name_key, listed FROM groups"))}
    assert got == {
        "p1": ("ärger project", True),
        "p2": ("closed project", False),
        "t1": ("lunch", False),
        "t2": ("lunch, listed", True),
        "d1": ("sales dept", False),
        "p3": ("old project", False),
    }
