"""sensitive words and their hits

The word list of the three-level filter (warn / replace / block), unique by the folded
word, a one-row version that grows with every change, and the log of hits
(storage/sensitive.py, services/sensitive_words.py).

Revision ID: 0020
Revises: 0019
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensitive_words",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensitive_words"),
        sa.UniqueConstraint("key", name="uq_sensitive_words_key"),
    )
    op.create_table(
        "sensitive_state",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensitive_state"),
    )
    op.create_table(
        "sensitive_hits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("conv", sa.String(length=140), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("word_id", sa.String(length=40), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("excerpt", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensitive_hits"),
    )
    op.create_index("ix_sensitive_hits_ts", "sensitive_hits", ["ts"], unique=False)
    op.create_index("ix_sensitive_hits_user_id_ts", "sensitive_hits", ["user_id", "ts"], unique=False)
    op.create_index("ix_sensitive_hits_level_ts", "sensitive_hits", ["level", "ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sensitive_hits_level_ts", table_name="sensitive_hits")
    op.drop_index("ix_sensitive_hits_user_id_ts", table_name="sensitive_hits")
    op.drop_index("ix_sensitive_hits_ts", table_name="sensitive_hits")
    op.drop_table("sensitive_hits")
    op.drop_table("sensitive_state")
    op.drop_table("sensitive_words")
