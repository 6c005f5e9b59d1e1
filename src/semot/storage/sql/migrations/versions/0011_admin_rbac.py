"""admin roles, grants and the admin audit log

Custom administrator roles (`admin_roles`; the built-in ones live in code), what each
administrator holds (`admin_grants`: roles and an optional department limit; an
administrator without a row is a super administrator, as before), and every change an
administrator makes (`admin_audit`, indexed for its filters, newest first).

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'admin_roles',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=512), server_default='', nullable=False),
        sa.Column('perms', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_admin_roles'),
        sa.UniqueConstraint('name', name='uq_admin_roles_name'),
    )
    op.create_table(
        'admin_grants',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('roles', sa.Text(), nullable=False),
        sa.Column('departments', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), server_default='', nullable=False),
        sa.PrimaryKeyConstraint('user_id', name='pk_admin_grants'),
    )
    op.create_table(
        'admin_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.Column('admin', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=256), server_default='', nullable=False),
        sa.Column('ip', sa.String(length=64), server_default='', nullable=False),
        sa.Column('before', sa.Text(), nullable=True),
        sa.Column('after', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_admin_audit'),
    )
    op.create_index('ix_admin_audit_ts', 'admin_audit', ['ts'], unique=False)
    op.create_index('ix_admin_audit_admin_ts', 'admin_audit', ['admin', 'ts'], unique=False)
    op.create_index('ix_admin_audit_action_ts', 'admin_audit', ['action', 'ts'], unique=False)
    op.create_index('ix_admin_audit_target_ts', 'admin_audit', ['target', 'ts'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_admin_audit_target_ts', table_name='admin_audit')
    op.drop_index('ix_admin_audit_action_ts', table_name='admin_audit')
    op.drop_index('ix_admin_audit_admin_ts', table_name='admin_audit')
    op.drop_index('ix_admin_audit_ts', table_name='admin_audit')
    op.drop_table('admin_audit')
    op.drop_table('admin_grants')
    op.drop_table('admin_roles')
