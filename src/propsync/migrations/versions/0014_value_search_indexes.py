"""every value is searchable by index

Issue 15: a search on an ordinary property read every value of the property (``email EQ``
took 0.5 s on PostgreSQL and 1.4-1.8 s on SQLite at 1,000,000 contacts; the web UI's
contact search 1.7-2.9 s at 30,000). Migration 0006's sync value indexes now cover every
value: a text by its first 100 lower-case characters (``ix_property_values_text``), a
number or date by ``num`` (``ix_property_values_num``). The words inside a text
(``CONTAINS_TOKEN``, a token with ``*``, the free-text ``query``: all ``LIKE`` patterns on
the lower-cased value) are found by trigrams of the ordinary values (not the sync values,
which the engine's backfills and fan-outs write), ``ix_property_values_trigrams``: on PostgreSQL
a ``pg_trgm`` GIN index on ``lower(value)`` (the extension ships with PostgreSQL's contrib,
which stock packages include, and is trusted, so a database owner may create it; without
it the migration goes on and such searches read the property's values as before); on
SQLite an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34 or later) over a view of
the lower-cased values, kept by triggers on ``property_values``, so every writer keeps it
(the sync engine's set-based statements included). docs/PERFORMANCE.md has the figures
for what they buy and what writes pay.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import logging

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TRIGRAMS = 'ix_property_values_trigrams'
TEXT_KEY = 'substr(lower(value), 1, 100)'
log = logging.getLogger('alembic.runtime.migration')

# The trigrams cover ordinary values only (``source_id IS NULL``): the sync engine's
# backfills and fan-outs write sync values alone, and a trigram index made them 2-4 times
# as slow (docs/PERFORMANCE.md); a token search on a sync property reads its values.
# SQLite: the FTS5 table reads its content (for a rebuild or an integrity check) from a
# view of the lower-cased ordinary values, keyed by the rowid of property_values.
ORDINARY = "source_id IS NULL"
SQLITE_UP = [
    "CREATE VIEW property_values_lowered AS SELECT rowid AS value_rowid, "
    f"lower(value) AS lowered FROM property_values WHERE {ORDINARY}",
    f"CREATE VIRTUAL TABLE {TRIGRAMS} USING fts5(lowered, content='property_values_lowered', "
    "content_rowid='value_rowid', tokenize='trigram', detail='none')",
    f"CREATE TRIGGER property_values_trigrams_insert AFTER INSERT ON property_values "
    f"WHEN new.{ORDINARY} BEGIN "
    f"INSERT INTO {TRIGRAMS}(rowid, lowered) VALUES (new.rowid, lower(new.value)); END",
    f"CREATE TRIGGER property_values_trigrams_delete AFTER DELETE ON property_values "
    f"WHEN old.{ORDINARY} BEGIN "
    f"INSERT INTO {TRIGRAMS}({TRIGRAMS}, rowid, lowered) "
    "VALUES ('delete', old.rowid, lower(old.value)); END",
    "CREATE TRIGGER property_values_trigrams_update AFTER UPDATE OF value, source_id "
    f"ON property_values WHEN (old.{ORDINARY} OR new.{ORDINARY}) AND "
    "(old.value IS NOT new.value OR old.source_id IS NOT new.source_id) BEGIN "
    f"INSERT INTO {TRIGRAMS}({TRIGRAMS}, rowid, lowered) "
    f"SELECT 'delete', old.rowid, lower(old.value) WHERE old.{ORDINARY}; "
    f"INSERT INTO {TRIGRAMS}(rowid, lowered) SELECT new.rowid, lower(new.value) "
    f"WHERE new.{ORDINARY}; END",
    f"INSERT INTO {TRIGRAMS}({TRIGRAMS}) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER property_values_trigrams_update",
    "DROP TRIGGER property_values_trigrams_delete",
    "DROP TRIGGER property_values_trigrams_insert",
    f"DROP TABLE {TRIGRAMS}",
    "DROP VIEW property_values_lowered",
]


def upgrade() -> None:
    bind = op.get_bind()
    values = bind.execute(sa.text("SELECT count(*) FROM property_values")).scalar_one()
    log.info("indexing %s values for search (a few minutes per ten million)", values)
    op.drop_index('ix_property_values_sync_num', table_name='property_values')
    op.drop_index('ix_property_values_sync_text', table_name='property_values')
    text_only, numbers = sa.text("num IS NULL"), sa.text("num IS NOT NULL")
    op.create_index('ix_property_values_text', 'property_values',
                    ['account_id', 'property_id', sa.text(TEXT_KEY)],
                    postgresql_where=text_only, sqlite_where=text_only)
    log.info("indexed text values by their prefix")
    op.create_index('ix_property_values_num', 'property_values',
                    ['account_id', 'property_id', 'num'],
                    postgresql_where=numbers, sqlite_where=numbers)
    log.info("indexed numbers and dates")
    if bind.dialect.name == 'sqlite':
        for statement in SQLITE_UP:
            bind.exec_driver_sql(statement)
    elif _trigram_extension(bind):
        bind.exec_driver_sql(f"CREATE INDEX {TRIGRAMS} ON property_values "
                             f"USING gin (lower(value) gin_trgm_ops) WHERE {ORDINARY}")
    log.info("indexed the words of text values")


def _trigram_extension(bind: sa.Connection) -> bool:
    """Whether ``pg_trgm`` is there (created now if it may be)."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as error:
        log.warning("pg_trgm is not available (%s): token and free-text searches will read "
                    "every value of the property; install PostgreSQL's contrib and run "
                    "`propsync verify --repair`", str(error.orig).strip())
        return False
    return True


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for statement in SQLITE_DOWN:
            bind.exec_driver_sql(statement)
    else:
        bind.exec_driver_sql(f"DROP INDEX IF EXISTS {TRIGRAMS}")
    op.drop_index('ix_property_values_num', table_name='property_values')
    op.drop_index('ix_property_values_text', table_name='property_values')
    synced_text = sa.text("source_id IS NOT NULL AND num IS NULL")
    synced_numbers = sa.text("source_id IS NOT NULL AND num IS NOT NULL")
    op.create_index('ix_property_values_sync_text', 'property_values',
                    ['account_id', 'property_id', sa.text(TEXT_KEY)],
                    postgresql_where=synced_text, sqlite_where=synced_text)
    op.create_index('ix_property_values_sync_num', 'property_values',
                    ['account_id', 'property_id', 'num'],
                    postgresql_where=synced_numbers, sqlite_where=synced_numbers)
