"""message edits and reactions, and the per-conversation change cursor

`conversations.change_seq` is bumped by every edit or reaction change in the
conversation and stamped on the changed message (`messages.change_seq`), so `sync`
can report conversations changed since a device's cursor and `changes` can list the
messages changed since it, without adding messages (docs/protocol.md).

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('change_seq', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('edited_ts', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('change_seq', sa.BigInteger(), nullable=True))
    op.create_index('ix_messages_conv_change_seq', 'messages', ['conv', 'change_seq'], unique=False)
    op.create_table(
        'message_reactions',
        sa.Column('conv', sa.String(length=140), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('emoji', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('ts', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('conv', 'seq', 'emoji', 'user_id', name='pk_message_reactions'),
    )


def downgrade() -> None:
    op.drop_table('message_reactions')
    op.drop_index('ix_messages_conv_change_seq', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('change_seq')
        batch.drop_column('edited_ts')
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('change_seq')
