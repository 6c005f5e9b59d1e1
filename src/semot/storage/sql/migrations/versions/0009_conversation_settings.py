"""per-conversation settings of each member: pinned, do-not-disturb, hidden

Kept on the member's own `conv_members` row so that `sync` returns them with the
conversation and every device of the user agrees.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conv_members') as batch:
        batch.add_column(sa.Column('pinned_at', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('dnd', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('hidden_seq', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conv_members') as batch:
        batch.drop_column('hidden_seq')
        batch.drop_column('dnd')
        batch.drop_column('pinned_at')
