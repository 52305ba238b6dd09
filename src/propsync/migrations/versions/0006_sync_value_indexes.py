"""sync values are searchable by index

A search that filters on a sync property (``company_name_sync EQ 'Acme'``, the lists and
reports that sync properties replace copy-value workflows for) read every target record
of the type: at 1,000,000 contacts 0.5 s on PostgreSQL and 1.4 s on SQLite. Two partial
indexes cover sync values only (``source_id IS NOT NULL``), so ordinary writes pay
nothing: text by its first 100 lower-case characters, numbers and dates by ``num``; each
sync value is in exactly one of them. The same search then takes well under a
millisecond (4 ms and 2 ms through the service, views included). What they cost, measured
on the same 1,000,000 contacts: every sync value written also writes one index entry, and
a changed value can no longer be a heap-only update on PostgreSQL. A backfill took 10-20 %
longer on PostgreSQL and 60-100 % longer on SQLite (13-16 s to 25-27 s: its entries land
at random places, each dirtying a page of its own); renaming a company with 100,000
contacts took 15-45 % longer on PostgreSQL and 35-60 % longer on SQLite (a hand-written
UPDATE of the same rows, 60-75 % longer and 2.4-3.4 times as long). Searches run far
more often than either, so sync values are indexed on both stores.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    text_only = sa.text("source_id IS NOT NULL AND num IS NULL")
    numbers = sa.text("source_id IS NOT NULL AND num IS NOT NULL")
    op.create_index('ix_property_values_sync_text', 'property_values',
                    ['account_id', 'property_id', sa.text('substr(lower(value), 1, 100)')],
                    unique=False, postgresql_where=text_only, sqlite_where=text_only)
    op.create_index('ix_property_values_sync_num', 'property_values',
                    ['account_id', 'property_id', 'num'], unique=False,
                    postgresql_where=numbers, sqlite_where=numbers)


def downgrade() -> None:
    op.drop_index('ix_property_values_sync_num', table_name='property_values')
    op.drop_index('ix_property_values_sync_text', table_name='property_values')
