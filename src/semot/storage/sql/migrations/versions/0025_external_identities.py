"""external sign-in identities (OIDC subjects) linked to users

`external_identities`: (provider, subject) -> user_id, one identity per user and
provider, and the departments its claim gave (a JSON array of ids) so a later
sign-in can leave those no longer claimed (schema_external_identities.py, docs/sso.md).

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'external_identities',
        sa.Column('provider', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('last_login_at', sa.BigInteger(), nullable=True),
        sa.Column('departments', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('provider', 'subject', name='pk_external_identities'),
    )
    op.create_index('ix_external_identities_provider_user_id', 'external_identities', ['provider', 'user_id'],
                    unique=True)
    op.create_index('ix_external_identities_user_id', 'external_identities', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_external_identities_user_id', table_name='external_identities')
    op.drop_index('ix_external_identities_provider_user_id', table_name='external_identities')
    op.drop_table('external_identities')
