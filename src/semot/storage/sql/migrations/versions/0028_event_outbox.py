"""transactional event outbox

`event_outbox`: webhook events written in the same transaction as the change they
describe (a message, a recall, a group change, a friendship), fanned out to
`webhook_deliveries` later (storage/outbox.py, schema_webhooks.py).

Revision ID: 0028
Revises: 0027
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'event_outbox',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_event_outbox'),
    )


def downgrade() -> None:
    op.drop_table('event_outbox')
