"""login logs and dashboard counters

`login_logs` keeps every login attempt (success or failure and why, who, from which
address and client), purged after the retention period; `stats_minutes` holds the
dashboard's per-minute counters (messages stored...), summed over the nodes. The
new-users figures need no index of their own: 0012's `ix_users_created_at_id` starts
with `created_at`.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_logs"),
    )
    op.create_index("ix_login_logs_ts", "login_logs", ["ts"], unique=False)
    op.create_index("ix_login_logs_user_id_ts", "login_logs", ["user_id", "ts"], unique=False)
    op.create_index("ix_login_logs_ip_ts", "login_logs", ["ip", "ts"], unique=False)
    op.create_table(
        "stats_minutes",
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "minute", name="pk_stats_minutes"),
    )


def downgrade() -> None:
    op.drop_table("stats_minutes")
    op.drop_index("ix_login_logs_ip_ts", table_name="login_logs")
    op.drop_index("ix_login_logs_user_id_ts", table_name="login_logs")
    op.drop_index("ix_login_logs_ts", table_name="login_logs")
    op.drop_table("login_logs")
