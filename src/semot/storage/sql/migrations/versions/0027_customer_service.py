"""customer service: queues, agents, visitor sessions, ratings

(schema_customer_service.py, docs/customer-service.md)

Revision ID: 0027
Revises: 0026
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cs_queues',
        sa.Column('queue_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('queue_id', name='pk_cs_queues'),
    )
    op.create_table(
        'cs_agents',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('queues', sa.Text(), nullable=False),
        sa.Column('field', sa.String(length=64), nullable=False),
        sa.Column('max_concurrent', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name='pk_cs_agents'),
    )
    op.create_table(
        'cs_settings',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_cs_settings'),
    )
    op.create_table(
        'cs_visitors',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('last_seen_at', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('user_id', name='pk_cs_visitors'),
        sa.UniqueConstraint('key_hash', name='uq_cs_visitors_key_hash'),
    )
    op.create_table(
        'cs_customers',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name='pk_cs_customers'),
    )
    op.create_table(
        'cs_sessions',
        sa.Column('session_id', sa.String(length=64), nullable=False),
        sa.Column('conv', sa.String(length=80), nullable=False),
        sa.Column('visitor_id', sa.String(length=64), nullable=False),
        sa.Column('queue_id', sa.String(length=64), nullable=True),
        sa.Column('agent_id', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('context', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('assigned_at', sa.BigInteger(), nullable=True),
        sa.Column('first_response_at', sa.BigInteger(), nullable=True),
        sa.Column('closed_at', sa.BigInteger(), nullable=True),
        sa.Column('closed_by', sa.String(length=64), nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('session_id', name='pk_cs_sessions'),
        sa.UniqueConstraint('conv', name='uq_cs_sessions_conv'),
    )
    op.create_index('ix_cs_sessions_visitor_id_created_at', 'cs_sessions', ['visitor_id', 'created_at'], unique=False)
    op.create_index('ix_cs_sessions_state_queue_id_created_at', 'cs_sessions', ['state', 'queue_id', 'created_at'],
                    unique=False)
    op.create_index('ix_cs_sessions_agent_id_state', 'cs_sessions', ['agent_id', 'state'], unique=False)
    op.create_index('ix_cs_sessions_created_at', 'cs_sessions', ['created_at'], unique=False)
    op.create_index('ix_cs_visitors_last_seen_at', 'cs_visitors', ['last_seen_at'], unique=False)
    # one open session per visitor (two simultaneous requests make one)
    op.create_index('uq_cs_sessions_open_visitor', 'cs_sessions', ['visitor_id'], unique=True,
                    sqlite_where=sa.text("state <> 'closed'"), postgresql_where=sa.text("state <> 'closed'"))


def downgrade() -> None:
    op.drop_table('cs_sessions')
    op.drop_table('cs_customers')
    op.drop_table('cs_visitors')
    op.drop_table('cs_settings')
    op.drop_table('cs_agents')
    op.drop_table('cs_queues')
