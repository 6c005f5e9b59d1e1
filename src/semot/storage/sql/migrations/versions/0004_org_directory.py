"""organisation directory: departments, their members, people-search keys

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'departments',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('parent_id', sa.String(length=64), nullable=True),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('sort_order', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    )
    op.create_index(op.f('ix_departments_parent_id_sort_order'), 'departments', ['parent_id', 'sort_order'], unique=False)
    op.create_table(
        'department_members',
        sa.Column('department_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=128), server_default='', nullable=False),
        sa.Column('sort_order', sa.Integer(), server_default='0', nullable=False),
        sa.Column('joined_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('department_id', 'user_id', name=op.f('pk_department_members')),
    )
    op.create_index(op.f('ix_department_members_user_id'), 'department_members', ['user_id'], unique=False)
    op.create_table(
        'user_search',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('pinyin_full', sa.Text(), server_default='', nullable=False),
        sa.Column('pinyin_initials', sa.String(length=512), server_default='', nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_search')),
    )


def downgrade() -> None:
    op.drop_table('user_search')
    op.drop_index(op.f('ix_department_members_user_id'), table_name='department_members')
    op.drop_table('department_members')
    op.drop_index(op.f('ix_departments_parent_id_sort_order'), table_name='departments')
    op.drop_table('departments')
