"""client configuration

The administrator's client configuration (终端配置): one row, `id` = "client", holding
the configuration as a JSON document with a version that grows with every change
(storage/client_config.py, services/client_settings.py).

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'client_config',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('doc', sa.Text(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_config')),
    )


def downgrade() -> None:
    op.drop_table('client_config')
