"""Every table, in one MetaData. Each table's key starts with ``account_id``, but for the
change feed's cursors (``change_readers``, one row per reader of every account's changes)
and the id counters.

Ids of records, history entries and changes come from ``storage.ids`` (a
PostgreSQL sequence, or a counter row on SQLite), never from a per-table
autoincrement, so that the composite keys stay shard-friendly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    table,
    text,
)

# How many lower-case characters of a text value its index holds (storage/search.py
# matches on them, then on the whole value).
TEXT_PREFIX = 100
# The trigram index of every text value (PostgreSQL: a GIN index; SQLite: an FTS5 table).
VALUE_TRIGRAMS = "ix_property_values_trigrams"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _account() -> Column[int]:
    return Column("account_id", BigInteger, nullable=False)


id_sequences = Table(
    "id_sequences",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("next_value", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("tier", String(20), nullable=False, server_default="professional"),
    Column("created_ms", BigInteger, nullable=False),
    # The account this one is a sandbox of (migration 0017); NULL for an ordinary account.
    Column("sandbox_of", BigInteger),
    Index(None, "sandbox_of"),
)

users = Table(
    "users",
    metadata,
    _account(),
    Column("user_id", BigInteger, nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(300)),
    Column("created_ms", BigInteger, nullable=False),
    Column("role", String(20), nullable=False, server_default="super_admin"),
    PrimaryKeyConstraint("account_id", "user_id"),
    UniqueConstraint("account_id", "email"),
)

teams = Table(
    "teams",
    metadata,
    _account(),
    Column("team_id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    PrimaryKeyConstraint("account_id", "team_id"),
)

team_members = Table(
    "team_members",
    metadata,
    _account(),
    Column("team_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "team_id", "user_id"),
)

tokens = Table(
    "tokens",
    metadata,
    _account(),
    Column("token_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("token_hash", String(64), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_ms", BigInteger, nullable=False),
    Column("last_used_ms", BigInteger),  # written at most once a minute per process
    Column("revoked_ms", BigInteger),  # a revoked token is refused at once
    PrimaryKeyConstraint("account_id", "token_id"),
    UniqueConstraint("account_id", "token_hash"),
)

# A signed-in web session. The cookie carries the account and a random session id; only
# the id's SHA-256 is stored, so a copy of this table signs nobody in.
sessions = Table(
    "sessions",
    metadata,
    _account(),
    Column("session_hash", String(64), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("csrf", String(64), nullable=False),  # the token every form of the session carries
    Column("created_ms", BigInteger, nullable=False),
    Column("seen_ms", BigInteger, nullable=False),  # for the idle timeout; at most 1/min
    PrimaryKeyConstraint("account_id", "session_hash"),
    Index(None, "account_id", "user_id"),
)

# Failed sign-ins per e-mail address and per client address. Not per account (like
# id_sequences): an e-mail address may be a user of several accounts or of none (an
# unknown address is throttled exactly like a known one), and a client address belongs
# to no account. The key is the SHA-256 of "email:<address>" or "address:<ip>", so the
# table keeps no typed address in clear text.
signin_throttle = Table(
    "signin_throttle",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("blocked_until_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index(None, "updated_ms"),
)

# API calls per account and UTC day, for HubSpot's daily limit; each process adds its
# counts in batches (api/ratelimit.py), not one write per request.
api_usage_daily = Table(
    "api_usage_daily",
    metadata,
    _account(),
    Column("day", Integer, nullable=False),  # days since 1970-01-01 (UTC)
    Column("calls", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "day"),
)

property_groups = Table(
    "property_groups",
    metadata,
    _account(),
    Column("object_type", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("display_order", Integer, nullable=False, server_default="-1"),
    PrimaryKeyConstraint("account_id", "object_type", "name"),
)

properties = Table(
    "properties",
    metadata,
    _account(),
    Column("property_id", BigInteger, nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("field_type", String(40), nullable=False),
    Column("group_name", String(100), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("options", Text, nullable=False, server_default="[]"),  # JSON list
    Column("display_order", Integer, nullable=False, server_default="-1"),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("has_unique_value", Boolean, nullable=False, server_default="0"),
    Column("hubspot_defined", Boolean, nullable=False, server_default="0"),
    Column("calculated", Boolean, nullable=False, server_default="0"),
    Column("access", Text),  # JSON AccessRule, NULL = everyone
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "property_id"),
    UniqueConstraint("account_id", "object_type", "name"),
)

# PostgreSQL keeps half of each page free (migration 0005): updatedAt moves with every
# sync value change, and room on the page makes that a HOT update.
records = Table(
    "records",
    metadata,
    _account(),
    Column("record_id", BigInteger, nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("archived", Boolean, nullable=False, server_default="0"),
    Column("archived_ms", BigInteger),
    Column("merged_into", BigInteger),
    PrimaryKeyConstraint("account_id", "record_id"),
    Index(None, "account_id", "object_type", "archived", "record_id"),
)

property_values = Table(
    "property_values",
    metadata,
    _account(),
    Column("record_id", BigInteger, nullable=False),
    Column("property_id", BigInteger, nullable=False),
    Column("value", Text, nullable=False),
    Column("num", Float),  # numbers, and dates as epoch ms: what comparisons and sorts use
    # A sync value's winner (the source record it copies); NULL for ordinary values.
    Column("source_id", BigInteger),
    PrimaryKeyConstraint("account_id", "record_id", "property_id"),
    Index(None, "account_id", "property_id", "record_id"),
    Index("ix_property_values_synced_from", "account_id", "property_id", "source_id",
          "record_id", postgresql_where=text("source_id IS NOT NULL"),
          sqlite_where=text("source_id IS NOT NULL")),
    # Every value is searchable by index (migrations 0006 and 0014 say what it costs): a
    # text value by its first 100 lower-case characters (a whole value may be longer than an
    # index entry can hold), a number or date by ``num``. Each value is in exactly one. The
    # words inside a text (``CONTAINS_TOKEN``, the free-text ``query``) are found through a
    # trigram index that migration 0014 adds outside this metadata: on PostgreSQL a
    # ``pg_trgm`` GIN index on ``lower(value)`` (``VALUE_TRIGRAMS``), on SQLite the FTS5
    # table ``VALUE_TRIGRAMS`` kept by triggers (storage/indexes.py checks both).
    Index("ix_property_values_text", "account_id", "property_id",
          text(f"substr(lower(value), 1, {TEXT_PREFIX})"),
          postgresql_where=text("num IS NULL"), sqlite_where=text("num IS NULL")),
    Index("ix_property_values_num", "account_id", "property_id", "num",
          postgresql_where=text("num IS NOT NULL"), sqlite_where=text("num IS NOT NULL")),
)

# SQLite's trigram index of the lower-cased values (an FTS5 table keyed by the rowid of
# ``property_values``; migration 0014 creates it and its triggers): searches read it only.
value_trigrams = table(VALUE_TRIGRAMS, column("rowid"), column("lowered"))

# The values of unique properties (``hasUniqueValue``) that live records hold: the primary
# key makes the database refuse a second record with the same value, also when two
# transactions write it at once. A value is keyed by the SHA-256 of its canonical text, so a
# long text fits an index entry. Archived records hold none (their values are free again).
unique_values = Table(
    "unique_values",
    metadata,
    _account(),
    Column("property_id", BigInteger, nullable=False),
    Column("value_hash", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "property_id", "value_hash"),
    Index(None, "account_id", "record_id"),
)

# That a GDPR delete happened, without personal data: who erased which record id, when.
gdpr_deletions = Table(
    "gdpr_deletions",
    metadata,
    _account(),
    Column("entry_id", BigInteger, nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("user_id", BigInteger),
    Column("id_property", String(100)),  # the property the caller named it by (not its value)
    PrimaryKeyConstraint("account_id", "entry_id"),
)

property_history = Table(
    "property_history",
    metadata,
    _account(),
    Column("record_id", BigInteger, nullable=False),
    Column("property_id", BigInteger, nullable=False),
    Column("history_id", BigInteger, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("value", Text),  # NULL: the value was cleared
    Column("source_type", String(40), nullable=False),
    Column("source_id", String(200)),
    Column("source_label", String(200)),
    Column("user_id", BigInteger),
    PrimaryKeyConstraint("account_id", "record_id", "property_id", "history_id"),
)

association_types = Table(
    "association_types",
    metadata,
    _account(),
    Column("type_id", Integer, nullable=False),
    Column("from_type", String(40), nullable=False),
    Column("to_type", String(40), nullable=False),
    Column("inverse_id", Integer, nullable=False),
    Column("label", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    PrimaryKeyConstraint("account_id", "type_id"),
)

# An account's limit on how many records one record may be associated with by one
# association type (HubSpot's userEnforcedMaxToObjectIds), counted from the type's
# from-record; the built-in Primary's "at most one" is not stored.
association_limits = Table(
    "association_limits",
    metadata,
    _account(),
    Column("type_id", Integer, nullable=False),
    Column("max_to_object_ids", Integer, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "type_id"),
)

associations = Table(
    "associations",
    metadata,
    _account(),
    Column("from_id", BigInteger, nullable=False),
    Column("to_type", String(40), nullable=False),
    Column("to_id", BigInteger, nullable=False),
    Column("type_id", Integer, nullable=False),
    Column("from_type", String(40), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "from_id", "to_type", "to_id", "type_id"),
)

# The change feed: each write appends the changes some reader needs (storage/changes.py);
# each reader reads them in commit order, (txid, change_id), from its cursor in
# ``change_readers`` (storage/feed.py), and rows every reader has passed are pruned.
change_log = Table(
    "change_log",
    metadata,
    _account(),
    Column("change_id", BigInteger, nullable=False),
    # The writer's transaction id on PostgreSQL (filled by the database: the column's
    # default there is pg_current_xact_id(), set by migration 0011); 0 on SQLite, whose
    # writers take turns, so that change ids are allocated in commit order.
    Column("txid", BigInteger, nullable=False, server_default="0"),
    Column("created_ms", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),  # see domain.changes.ChangeKind
    Column("object_type", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("property_id", BigInteger),
    Column("related_type", String(40)),
    Column("related_id", BigInteger),
    PrimaryKeyConstraint("account_id", "change_id"),
    Index(None, "txid", "change_id"),
)

# One row per reader of the change feed: the position of the last change it has read. A
# reader advances it in the transaction that does the work of what it read.
change_readers = Table(
    "change_readers",
    metadata,
    Column("reader", String(40), nullable=False),
    Column("txid", BigInteger, nullable=False),
    Column("change_id", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("reader"),
)

# What a reader other than the sync engine needs writers to record (domain.changes.Watch):
# value changes of (object_type, property_id), or with property_id NULL the lifecycle
# changes of records of object_type.
change_watches = Table(
    "change_watches",
    metadata,
    _account(),
    Column("reader", String(40), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("property_id", BigInteger),
    Index(None, "account_id", "reader", "object_type", "property_id"),
)

sync_properties = Table(
    "sync_properties",
    metadata,
    _account(),
    Column("property_id", BigInteger, nullable=False),  # the sync property itself
    Column("target_type", String(40), nullable=False),
    Column("source_type", String(40), nullable=False),
    Column("source_property_id", BigInteger, nullable=False),
    Column("association_type_ids", Text),  # space-separated ids; NULL = every type counts
    Column("selection", String(20)),  # FIRST_CREATED / LAST_CREATED / NULL (single-valued)
    Column("state", String(20), nullable=False),  # BACKFILLING / LIVE
    Column("backfill_cursor", BigInteger, nullable=False, server_default="0"),
    Column("backfill_done", BigInteger, nullable=False, server_default="0"),
    Column("backfill_total", BigInteger, nullable=False, server_default="0"),
    Column("backfill_started_ms", BigInteger, nullable=False, server_default="0"),
    Column("generation", Integer, nullable=False, server_default="1"),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "property_id"),
    Index(None, "account_id", "source_property_id"),
)

sync_targets = Table(
    "sync_targets",
    metadata,
    _account(),
    Column("property_id", BigInteger, nullable=False),
    Column("target_id", BigInteger, nullable=False),
    Column("queued_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "property_id", "target_id"),
)

sync_fanouts = Table(
    "sync_fanouts",
    metadata,
    _account(),
    Column("property_id", BigInteger, nullable=False),
    Column("source_id", BigInteger, nullable=False),  # whose new value goes to its targets
    Column("cursor", BigInteger, nullable=False, server_default="0"),  # targets done: ids <=
    Column("queued_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "property_id", "source_id"),
)

property_definition_log = Table(
    "property_definition_log",
    metadata,
    _account(),
    Column("entry_id", BigInteger, nullable=False),
    Column("property_id", BigInteger, nullable=False),  # kept after the property is deleted
    Column("object_type", String(40), nullable=False),
    Column("property_name", String(200), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("user_id", BigInteger),
    Column("action", String(20), nullable=False),  # CREATED / UPDATED / DELETED
    Column("summary", Text, nullable=False),  # what changed, in words
    PrimaryKeyConstraint("account_id", "entry_id"),
    Index(None, "account_id", "property_id", "entry_id"),
)

# Workflow definitions (HubSpot's Automation v4 flows, migration 0012): ``definition`` is
# the flow's JSON as HubSpot shows it, without the server's fields; ``revision`` grows with
# each save; a deleted flow keeps its row (``deleted_ms``) so that its runs still name it.
workflows = Table(
    "workflows",
    metadata,
    _account(),
    Column("flow_id", BigInteger, nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("definition", Text, nullable=False),  # JSON
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("created_by", BigInteger),
    Column("updated_by", BigInteger),
    Column("deleted_ms", BigInteger),
    PrimaryKeyConstraint("account_id", "flow_id"),
)

# One row per record enrolled in a workflow (migration 0013): where it is in the flow and
# when its next action is due. The database keeps one active enrollment per (flow, record)
# (a partial unique index); workers claim due ones by ``ix_workflow_enrollments_due``.
workflow_enrollments = Table(
    "workflow_enrollments",
    metadata,
    _account(),
    Column("enrollment_id", BigInteger, nullable=False),
    Column("flow_id", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),  # the flow's revision when it enrolled
    Column("record_id", BigInteger, nullable=False),
    Column("state", String(20), nullable=False),  # ACTIVE / COMPLETED / FAILED / CANCELLED
    Column("next_action_id", String(50)),  # NULL: no action left (it completes when due)
    Column("due_ms", BigInteger),  # when the next action runs; NULL once it ended
    Column("enrolled_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger),
    # A trigger that would enroll the record again while this one ran: a new enrollment
    # starts when this one ends, if the record still meets the criteria.
    Column("reenroll_pending", Boolean, nullable=False, server_default="0"),
    Column("cause", String(20), nullable=False),  # TRIGGER / MANUAL / EXISTING / PENDING
    Column("reason", Text),  # why it failed or was cancelled (no value of a property)
    PrimaryKeyConstraint("account_id", "enrollment_id"),
    Index("ix_workflow_enrollments_one_active", "account_id", "flow_id", "record_id",
          unique=True, postgresql_where=text("state = 'ACTIVE'"),
          sqlite_where=text("state = 'ACTIVE'")),
    Index("ix_workflow_enrollments_due", "due_ms", "account_id", "enrollment_id",
          postgresql_where=text("state = 'ACTIVE'"), sqlite_where=text("state = 'ACTIVE'")),
    Index(None, "account_id", "flow_id", "record_id"),  # did it ever enroll
    Index(None, "account_id", "record_id"),  # a record's workflows
)

# A flow's enrollments counted (active = enrolled - completed - failed - cancelled), kept
# in the transactions that insert and end enrollments, so a flow's counts are one row.
workflow_counts = Table(
    "workflow_counts",
    metadata,
    _account(),
    Column("flow_id", BigInteger, nullable=False),
    Column("enrolled", BigInteger, nullable=False),
    Column("completed", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("cancelled", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "flow_id"),
)

# The run log: one row per action run (done, skipped or failed). ``detail`` says what
# happened in words and names properties, never a value (it is shown to whoever may see
# the flow, who may not be allowed to see every property's values).
workflow_runs = Table(
    "workflow_runs",
    metadata,
    _account(),
    Column("run_id", BigInteger, nullable=False),
    Column("flow_id", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),  # the flow's revision that ran
    Column("enrollment_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),  # the enrolled record
    Column("action_id", String(50), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("outcome", String(10), nullable=False),  # DONE / SKIPPED / FAILED
    Column("detail", Text, nullable=False),
    Column("written", Integer, nullable=False, server_default="0"),  # values changed
    PrimaryKeyConstraint("account_id", "run_id"),
    Index(None, "account_id", "flow_id", "run_id"),
    Index(None, "account_id", "record_id", "run_id"),
)

# The version of a value a workflow wrote, for "the last write wins" (migration 0013). A
# value's version is that of its newest write: a user's (or the sync engine's) write is
# its history entry's (time, id); a workflow's copy keeps the version of the value it
# copied (so a copy never looks newer than the edit it carries), and a workflow's static
# value is a new version. Workflow writes are kept here, as their history entries say
# only when they happened; ``storage/value_versions.py`` reads both.
workflow_value_versions = Table(
    "workflow_value_versions",
    metadata,
    _account(),
    Column("record_id", BigInteger, nullable=False),
    Column("property_id", BigInteger, nullable=False),
    Column("version_ms", BigInteger, nullable=False),
    Column("version_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "record_id", "property_id"),
)

# Saved reports (migration 0016): ``definition`` is the report's JSON as the API shows it
# (``domain/reports.py``); a deleted report is gone (nothing else names it).
reports = Table(
    "reports",
    metadata,
    _account(),
    Column("report_id", BigInteger, nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("definition", Text, nullable=False),  # JSON
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("created_by", BigInteger),
    Column("updated_by", BigInteger),
    PrimaryKeyConstraint("account_id", "report_id"),
    Index(None, "account_id", "object_type", "report_id"),
)

# Lists (HubSpot's Lists v3, migration 0015): a list's definition, and its members with
# the time each joined. ``size`` is the count of its members, kept in the transactions
# that add or remove them (storage/lists.py). A DYNAMIC list's members follow its filter
# (the feed's reader ``lists``); ``status`` is PROCESSING until the worker has evaluated
# it whole (created, filters changed, restored); ``next_eval_ms`` is when a filter
# relative to today next moves, and the worker evaluates it whole again then.
lists = Table(
    "lists",
    metadata,
    _account(),
    Column("list_id", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("processing_type", String(20), nullable=False),  # DYNAMIC / MANUAL / SNAPSHOT
    Column("filter_branch", Text),  # HubSpot's JSON, as stored (domain/lists.py)
    Column("status", String(20), nullable=False),  # PROCESSING / COMPLETE
    Column("version", Integer, nullable=False),
    Column("size", BigInteger, nullable=False, server_default="0"),
    Column("next_eval_ms", BigInteger),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("filters_updated_ms", BigInteger, nullable=False),
    Column("created_by", BigInteger),
    Column("updated_by", BigInteger),
    Column("deleted_ms", BigInteger),
    PrimaryKeyConstraint("account_id", "list_id"),
    Index(None, "account_id", "object_type", "list_id"),
)

list_memberships = Table(
    "list_memberships",
    metadata,
    _account(),
    Column("list_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("added_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "list_id", "record_id"),
    Index(None, "account_id", "record_id"),
)

# Migrations from copy workflows to sync properties (issue 16, migration 0018): one row
# per migration, a state machine (domain/migrations.py). ``proposal`` is the plan's JSON
# (the sync property to create, the copy property it replaces, the dry run's figures);
# ``results`` each step's outcome as JSON (the sync property made, the clones with their
# ids, the comparison's summary, acknowledged differences, history entries filled).
migrations = Table(
    "migrations",
    metadata,
    _account(),
    Column("migration_id", BigInteger, nullable=False),
    Column("flow_id", BigInteger, nullable=False),
    Column("proposal", Text, nullable=False),  # JSON
    Column("sync_property", String(100)),  # its internal name, once created
    Column("state", String(20), nullable=False),
    Column("results", Text, nullable=False),  # JSON
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("created_by", BigInteger),
    Column("error", Text),
    PrimaryKeyConstraint("account_id", "migration_id"),
    Index(None, "account_id", "flow_id"),
)

SEQUENCES = ("accounts", "users", "teams", "tokens", "properties", "records", "history", "changes",
             "workflows", "enrollments", "runs", "reports", "lists", "migrations")
