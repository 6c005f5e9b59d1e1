"""user administration: one-time set-password links and the devices of each login

`password_links` keeps the links an administrator makes (or the bulk import makes) so
a user can set their own password: the token's SHA-256 only, its expiry and when it
was used (single use). `user_devices` records which device used which login, from
which address and when, for the admin console's list of a user's devices. An index on
users(created_at, id) pages the admin user list newest first.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'password_links',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.Column('used_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('token_hash', name='pk_password_links'),
    )
    op.create_index('ix_password_links_user_id', 'password_links', ['user_id'], unique=False)
    op.create_index('ix_password_links_expires_at', 'password_links', ['expires_at'], unique=False)
    op.create_table(
        'user_devices',
        sa.Column('login_id', sa.String(length=64), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('first_seen', sa.BigInteger(), nullable=False),
        sa.Column('last_seen', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('login_id', 'device_id', name='pk_user_devices'),
    )
    op.create_index('ix_user_devices_user_id_last_seen', 'user_devices', ['user_id', 'last_seen'], unique=False)
    op.create_index('ix_user_devices_last_seen', 'user_devices', ['last_seen'], unique=False)
    op.create_index('ix_users_created_at_id', 'users', ['created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_users_created_at_id', table_name='users')
    op.drop_index('ix_user_devices_last_seen', table_name='user_devices')
    op.drop_index('ix_user_devices_user_id_last_seen', table_name='user_devices')
    op.drop_table('user_devices')
    op.drop_index('ix_password_links_expires_at', table_name='password_links')
    op.drop_index('ix_password_links_user_id', table_name='password_links')
    op.drop_table('password_links')
