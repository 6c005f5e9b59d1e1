"""the admin user list by department: memberships indexed by (user_id, department_id)

The list tests a user's membership of a department set with one probe of this index
(storage/sql/user_list.py), which then needs no row; it replaces the index on user_id
alone, whose every lookup it serves as well.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_department_members_user_id_department_id", "department_members", ["user_id", "department_id"], unique=False
    )
    op.drop_index("ix_department_members_user_id", table_name="department_members")
    # a development database migrated by 0013's first version has its duplicate of
    # 0012's ix_users_created_at_id (never shipped; 0013 no longer makes it)
    op.execute("DROP INDEX IF EXISTS ix_users_created_at")


def downgrade() -> None:
    op.create_index("ix_department_members_user_id", "department_members", ["user_id"], unique=False)
    op.drop_index("ix_department_members_user_id_department_id", table_name="department_members")
