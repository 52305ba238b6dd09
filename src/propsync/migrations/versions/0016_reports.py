"""reports

Issue 15 (reports): saved reports, propsync's own (HubSpot has no public reports API).
One row per report: ``definition`` is its JSON as ``/propsync/v1/reports`` shows it
(object type, measure, group-by, date bucket, chart, filter branch). Ids come from a new
sequence, ``reports``. The figures are computed when asked, from current values or, as of
a past moment, from ``property_history``: nothing else is stored.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reports',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_by', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'report_id', name=op.f('pk_reports'))
    )
    op.create_index(op.f('ix_reports_account_id_object_type_report_id'), 'reports',
                    ['account_id', 'object_type', 'report_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE seq_reports")
    else:
        table = sa.table("id_sequences", sa.column("name"), sa.column("next_value"))
        op.bulk_insert(table, [{"name": "reports", "next_value": 1}])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE seq_reports")
    else:
        op.execute("DELETE FROM id_sequences WHERE name = 'reports'")
    op.drop_index(op.f('ix_reports_account_id_object_type_report_id'), table_name='reports')
    op.drop_table('reports')
