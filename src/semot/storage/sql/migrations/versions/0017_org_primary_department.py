"""a person's primary department (one membership marked); groups listed by creation time

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('department_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_primary', sa.Boolean(), server_default=sa.false(), nullable=False))
    # the admin console lists every group newest first (services/group_admin.py)
    op.create_index(op.f('ix_groups_created_at'), 'groups', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_groups_created_at'), table_name='groups')
    with op.batch_alter_table('department_members', schema=None) as batch_op:
        batch_op.drop_column('is_primary')
