"""files: uploads and what references them

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'files',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('offset', sa.BigInteger(), nullable=False),
        sa.Column('mime', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('w', sa.Integer(), nullable=True),
        sa.Column('h', sa.Integer(), nullable=True),
        sa.Column('duration_ms', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=True),
        sa.Column('completed_at', sa.BigInteger(), nullable=True),
        sa.Column('deleted_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    )
    op.create_index(op.f('ix_files_owner'), 'files', ['owner'], unique=False)
    op.create_index(op.f('ix_files_expires_at'), 'files', ['expires_at'], unique=False)
    op.create_index(op.f('ix_files_completed_at'), 'files', ['completed_at'], unique=False)
    op.create_table(
        'file_refs',
        sa.Column('file_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ref', sa.String(length=160), nullable=False),
        sa.Column('conv', sa.String(length=140), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('file_id', 'kind', 'ref', name=op.f('pk_file_refs')),
    )
    op.create_index(op.f('ix_file_refs_kind_ref'), 'file_refs', ['kind', 'ref'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_file_refs_kind_ref'), table_name='file_refs')
    op.drop_table('file_refs')
    op.drop_index(op.f('ix_files_completed_at'), table_name='files')
    op.drop_index(op.f('ix_files_expires_at'), table_name='files')
    op.drop_index(op.f('ix_files_owner'), table_name='files')
    op.drop_table('files')
