"""server API keys and the API call log

`api_keys` (stored hashed: SHA-256 of the key; scopes, IP allowlist, rate limit,
expiry, revocation), `api_calls` (one row per server API call, purged after the
retention) and `sso_tickets` (single-use login tickets, stored hashed).
docs/integration.md.

Revision ID: 0023
Revises: 0022
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=32), nullable=False),
        sa.Column('scopes', sa.Text(), nullable=False),
        sa.Column('allow_ips', sa.Text(), nullable=False),
        sa.Column('rate_per_min', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('revoked_at', sa.BigInteger(), nullable=True),
        sa.Column('last_used_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    )
    op.create_table(
        'api_calls',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=512), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_calls')),
    )
    op.create_index(op.f('ix_api_calls_ts'), 'api_calls', ['ts'], unique=False)
    op.create_index(op.f('ix_api_calls_key_id_ts'), 'api_calls', ['key_id', 'ts'], unique=False)
    op.create_table(
        'sso_tickets',
        sa.Column('ticket_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('ticket_hash', name=op.f('pk_sso_tickets')),
    )
    op.create_index(op.f('ix_sso_tickets_expires_at'), 'sso_tickets', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sso_tickets_expires_at'), table_name='sso_tickets')
    op.drop_table('sso_tickets')
    op.drop_index(op.f('ix_api_calls_key_id_ts'), table_name='api_calls')
    op.drop_index(op.f('ix_api_calls_ts'), table_name='api_calls')
    op.drop_table('api_calls')
    op.drop_table('api_keys')
