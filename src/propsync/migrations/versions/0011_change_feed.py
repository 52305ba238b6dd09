"""change feed

Issue 14: the change log becomes a feed that several readers consume independently. Each
reader has a cursor (``change_readers``); rows are read in commit order, ``(txid,
change_id)``, where ``txid`` is the writer's transaction id on PostgreSQL (filled by the
database) and 0 on SQLite (writers take turns there, so change ids are allocated in commit
order). Readers other than the sync engine say what writers must record in
``change_watches``. Rows already in the log keep ``txid`` 0, so they come before every new
row, and both readers' cursors start before all of them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

READERS = ('sync', 'workflows')


def upgrade() -> None:
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('txid', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_change_log_txid_change_id'),
                              ['txid', 'change_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Existing rows keep 0 (added with a constant default, no rewrite); new ones get
        # their writer's transaction id.
        op.execute("ALTER TABLE change_log ALTER COLUMN txid "
                   "SET DEFAULT (pg_current_xact_id()::text::bigint)")
    op.create_table('change_readers',
    sa.Column('reader', sa.String(length=40), nullable=False),
    sa.Column('txid', sa.BigInteger(), nullable=False),
    sa.Column('change_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('reader', name=op.f('pk_change_readers'))
    )
    op.create_table('change_watches',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('reader', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('property_id', sa.BigInteger(), nullable=True),
    )
    with op.batch_alter_table('change_watches', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_change_watches_account_id_reader_object_type_property_id'),
            ['account_id', 'reader', 'object_type', 'property_id'], unique=False)
    readers = sa.table('change_readers', sa.column('reader', sa.String),
                       sa.column('txid', sa.BigInteger), sa.column('change_id', sa.BigInteger),
                       sa.column('updated_ms', sa.BigInteger))
    # Before every row: every existing row has txid 0 and a change id of at least 1.
    op.bulk_insert(readers, [{'reader': r, 'txid': 0, 'change_id': 0, 'updated_ms': 0}
                             for r in READERS])


def downgrade() -> None:
    with op.batch_alter_table('change_watches', schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f('ix_change_watches_account_id_reader_object_type_property_id'))
    op.drop_table('change_watches')
    op.drop_table('change_readers')
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_log_txid_change_id'))
        batch_op.drop_column('txid')
