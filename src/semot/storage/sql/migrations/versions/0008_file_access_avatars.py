"""file access of former members, avatars of users and groups

`conv_departures` remembers when a user last left a conversation, so that the files of
messages sent before that moment stay readable to them (PROTOCOL.md section 6);
`avatar_file_id` on users and groups points at an uploaded image.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conv_departures',
        sa.Column('conv', sa.String(length=140), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('left_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('conv', 'user_id'),
    )
    op.create_index(op.f('ix_conv_departures_user_id'), 'conv_departures', ['user_id'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('avatar_file_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('groups') as batch:
        batch.add_column(sa.Column('avatar_file_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('groups') as batch:
        batch.drop_column('avatar_file_id')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('avatar_file_id')
    op.drop_index(op.f('ix_conv_departures_user_id'), table_name='conv_departures')
    op.drop_table('conv_departures')
