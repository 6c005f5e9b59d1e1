"""pre-moderation queue

`moderation_queue` holds the messages a group with `review` on keeps for a reviewer
(domain/moderation.py), unique by `(sender, cid)` like stored messages;
`moderation_settings` one row with the timeout setting (docs/moderation.md).

Revision ID: 0021
Revises: 0020
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'moderation_queue',
        sa.Column('mid', sa.String(length=64), nullable=False),
        sa.Column('cid', sa.String(length=64), nullable=False),
        sa.Column('sender', sa.String(length=64), nullable=False),
        sa.Column('conv', sa.String(length=140), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('opts', sa.Text(), nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('reviewer', sa.String(length=64), nullable=True),
        sa.Column('reviewed_at', sa.BigInteger(), nullable=True),
        sa.Column('seq', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('mid', name='pk_moderation_queue'),
        sa.UniqueConstraint('sender', 'cid', name='uq_moderation_queue_sender_cid'),
    )
    op.create_index('ix_moderation_queue_status_ts', 'moderation_queue', ['status', 'ts'], unique=False)
    op.create_index('ix_moderation_queue_conv_status_ts', 'moderation_queue', ['conv', 'status', 'ts'], unique=False)
    op.create_index('ix_moderation_queue_sender_status', 'moderation_queue', ['sender', 'status'], unique=False)
    op.create_table(
        'moderation_settings',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('timeout_s', sa.Integer(), nullable=False),
        sa.Column('timeout_action', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=True),
        sa.Column('updated_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_moderation_settings'),
    )


def downgrade() -> None:
    op.drop_table('moderation_settings')
    op.drop_index('ix_moderation_queue_sender_status', table_name='moderation_queue')
    op.drop_index('ix_moderation_queue_conv_status_ts', table_name='moderation_queue')
    op.drop_index('ix_moderation_queue_status_ts', table_name='moderation_queue')
    op.drop_table('moderation_queue')
