"""webhooks and their delivery outbox

`webhooks`: the registered hooks; `webhook_deliveries`: their outbox, ordered by
`seq`, claimed by one node at a time (schema_webhooks.py, docs/integration.md).

Revision ID: 0024
Revises: 0023
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhooks',
        sa.Column('webhook_id', sa.String(length=64), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('timeout_ms', sa.Integer(), nullable=False),
        sa.Column('on_timeout', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('webhook_id', name='pk_webhooks'),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('delivery_id', sa.String(length=64), nullable=False),
        sa.Column('webhook_id', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('next_at', sa.BigInteger(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_until', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('seq', name='pk_webhook_deliveries'),
        sa.UniqueConstraint('delivery_id', name='uq_webhook_deliveries_delivery_id'),
    )
    op.create_index('ix_webhook_deliveries_status_next_at', 'webhook_deliveries', ['status', 'next_at'], unique=False)
    op.create_index('ix_webhook_deliveries_webhook_id_key_status_seq', 'webhook_deliveries',
                    ['webhook_id', 'key', 'status', 'seq'], unique=False)
    op.create_index('ix_webhook_deliveries_webhook_id_seq', 'webhook_deliveries', ['webhook_id', 'seq'], unique=False)
    op.create_index('ix_webhook_deliveries_status_updated_at', 'webhook_deliveries', ['status', 'updated_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_status_updated_at', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_webhook_id_seq', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_webhook_id_key_status_seq', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_status_next_at', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
