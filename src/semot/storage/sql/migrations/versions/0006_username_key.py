"""case-insensitive usernames: a unique case-folded `username_key`

Revision ID: 0006
Revises: 0005

Accounts that already differ only in case (`CaseUser`, `caseuser`) cannot share one
key. The migration does not fail on them: the oldest account of each clash (by
created_at, then id) gets the plain key and so owns the name case-insensitively; each
later one gets `<key>#<n>` (`#` is not allowed in usernames, so no new account can ever
take it) and keeps signing in with its exact spelling only. Every clash is logged with
the names involved, for the operator to sort out.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

from semot.domain.users import username_key

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

log = logging.getLogger('semot.migrations')


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=80), server_default='', nullable=False))
    users = sa.table(
        'users',
        sa.column('id', sa.String),
        sa.column('username', sa.String),
        sa.column('created_at', sa.BigInteger),
        sa.column('username_key', sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.created_at, users.c.id)).all()
    owners: dict[str, str] = {}
    clashes: dict[str, int] = {}
    keys: list[dict[str, str]] = []
    for r in rows:
        key = username_key(r.username)
        if key in owners:
            clashes[key] = clashes.get(key, 1) + 1
            new_key = f'{key}#{clashes[key]}'
            log.warning(
                'username clash: %r and %r differ only in case; %r keeps the name, %r signs in with its exact spelling only',
                owners[key], r.username, owners[key], r.username,
            )
            key = new_key
        else:
            owners[key] = r.username
        keys.append({'b_id': r.id, 'b_key': key})
    if keys:
        set_key = users.update().where(users.c.id == sa.bindparam('b_id')).values(username_key=sa.bindparam('b_key'))
        bind.execute(set_key, keys)
    if clashes:
        log.warning('%d username(s) shared case-insensitively by several accounts: %s', len(clashes), sorted(clashes))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_username_key'), ['username_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_username_key'))
        batch_op.drop_column('username_key')
