"""LDAP / Active Directory: directory-managed users, sync runs, the sync lease

`ldap_users` (one row per directory-managed user: DN, e-mail, phone, roles given by
directory groups, disabled by the sync), `ldap_sync_runs` (the newest sync runs, for
the console), `ldap_leases` (one node at a time runs the scheduled sync) and
`ldap_config` (the console's group -> role mapping).
docs/sso.md.

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ldap_users',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('dn', sa.String(length=1024), nullable=False),
        sa.Column('email', sa.String(length=256), nullable=False),
        sa.Column('phone', sa.String(length=64), nullable=False),
        sa.Column('roles', sa.Text(), nullable=False),
        sa.Column('disabled_by_sync', sa.Boolean(), nullable=False),
        sa.Column('seen_at', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_ldap_users')),
    )
    op.create_table(
        'ldap_sync_runs',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('by', sa.String(length=64), nullable=True),
        sa.Column('started_at', sa.BigInteger(), nullable=False),
        sa.Column('finished_at', sa.BigInteger(), nullable=True),
        sa.Column('ok', sa.Boolean(), nullable=True),
        sa.Column('counts', sa.Text(), nullable=False),
        sa.Column('errors', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ldap_sync_runs')),
    )
    op.create_index(op.f('ix_ldap_sync_runs_started_at'), 'ldap_sync_runs', ['started_at'], unique=False)
    op.create_table(
        'ldap_leases',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        sa.Column('until', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_ldap_leases')),
    )
    op.create_table(
        'ldap_config',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_ldap_config')),
    )


def downgrade() -> None:
    op.drop_table('ldap_config')
    op.drop_table('ldap_leases')
    op.drop_index(op.f('ix_ldap_sync_runs_started_at'), table_name='ldap_sync_runs')
    op.drop_table('ldap_sync_runs')
    op.drop_table('ldap_users')
