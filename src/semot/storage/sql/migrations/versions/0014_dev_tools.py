"""client error reports and protocol log

The developer tools of the admin console: whose WebSocket frames are captured
(`protocol_log_sessions`), the captured frames (`protocol_log_frames`, redacted and
bounded) and the uncaught errors browsers report (`client_errors`, bounded).

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'protocol_log_sessions',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('until', sa.BigInteger(), nullable=False),
        sa.Column('started_by', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name='pk_protocol_log_sessions'),
    )
    op.create_table(
        'protocol_log_frames',
        sa.Column('id', _ROW_ID, autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('node', sa.String(length=32), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('session_id', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('truncated', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_protocol_log_frames'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_protocol_log_frames_user_id_id', 'protocol_log_frames', ['user_id', 'id'], unique=False)
    op.create_table(
        'client_errors',
        sa.Column('id', _ROW_ID, autoincrement=True, nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('app', sa.String(length=16), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('stack', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('user_agent', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_client_errors'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_client_errors_user_id_id', 'client_errors', ['user_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_client_errors_user_id_id', table_name='client_errors')
    op.drop_table('client_errors')
    op.drop_index('ix_protocol_log_frames_user_id_id', table_name='protocol_log_frames')
    op.drop_table('protocol_log_frames')
    op.drop_table('protocol_log_sessions')
