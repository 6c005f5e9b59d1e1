"""retention policy and legal holds; who recalled a message

`retention_settings` (one row: days kept per conversation type, the last sweep's
outcome) and `legal_holds` (users and conversations the sweep leaves alone), an index
on `messages.ts` for the sweep's oldest-first scan, and `messages.recalled_by` /
`recalled_role`: who recalled a message and as what (sender, group_admin, admin).
docs/retention.md, docs/protocol.md.

Revision ID: 0022
Revises: 0021
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('recalled_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('recalled_role', sa.String(length=16), nullable=True))
    op.create_index('ix_messages_ts', 'messages', ['ts'], unique=False)
    op.create_table(
        'retention_settings',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('direct_days', sa.Integer(), nullable=True),
        sa.Column('group_days', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.BigInteger(), nullable=True),
        sa.Column('updated_by', sa.String(length=64), nullable=True),
        sa.Column('last_started_at', sa.BigInteger(), nullable=True),
        sa.Column('last_finished_at', sa.BigInteger(), nullable=True),
        sa.Column('last_deleted', sa.BigInteger(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_settings')),
    )
    op.create_table(
        'legal_holds',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('target', sa.String(length=140), nullable=False),
        sa.Column('reason', sa.String(length=500), server_default='', nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds')),
        sa.UniqueConstraint('kind', 'target', name=op.f('uq_legal_holds_kind_target')),
    )


def downgrade() -> None:
    op.drop_table('legal_holds')
    op.drop_table('retention_settings')
    op.drop_index('ix_messages_ts', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('recalled_role')
        batch.drop_column('recalled_by')
