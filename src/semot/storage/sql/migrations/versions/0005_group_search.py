"""group search: a case-folded name key and whether a group is listed by name

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from semot.domain.groups import findable, name_key

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=512), server_default='', nullable=False))
        batch_op.add_column(sa.Column('listed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_groups_listed_created_at'), ['listed', 'created_at'], unique=False)
    groups = sa.table(
        'groups',
        sa.column('id', sa.String),
        sa.column('name', sa.String),
        sa.column('kind', sa.String),
        sa.column('settings', sa.Text),
        sa.column('dismissed_at', sa.BigInteger),
        sa.column('name_key', sa.String),
        sa.column('listed', sa.Boolean),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(groups.c.id, groups.c.name, groups.c.kind, groups.c.settings, groups.c.dismissed_at)).all()
    for r in rows:
        listed = r.dismissed_at is None and findable(r.kind, json.loads(r.settings or '{}'), by_id=False)
        bind.execute(groups.update().where(groups.c.id == r.id).values(name_key=name_key(r.name), listed=listed))


def downgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groups_listed_created_at'))
        batch_op.drop_column('listed')
        batch_op.drop_column('name_key')
