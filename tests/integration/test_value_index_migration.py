"""Migration 0014 builds the value indexes for the values already stored, and goes back
down cleanly (to 0006's sync value indexes), on both stores."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from propsync.domain.filters import Filter
from propsync.services.search import SearchRequest, search
from propsync.storage.indexes import check_indexes
from propsync.storage.migrate import alembic_config, upgrade
from propsync.storage.tables import VALUE_TRIGRAMS
from tests.integration.world import World

NEW = {"ix_property_values_text", "ix_property_values_num"}
OLD = {"ix_property_values_sync_text", "ix_property_values_sync_num"}
TRIGGERS = {f"property_values_trigrams_{event}" for event in ("insert", "update", "delete")}


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def value_indexes(engine: Engine) -> set[str]:
    """The search indexes of ``property_values`` (on SQLite with the trigram table and its
    triggers)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE name = :n OR "
                                      "tbl_name = 'property_values'"),
                                 {"n": VALUE_TRIGRAMS}).scalars().all()
        else:
            names = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = "
                                      "'property_values'")).scalars().all()
    return set(names) & (NEW | OLD | {VALUE_TRIGRAMS} | TRIGGERS)


def found(engine: Engine, w: World, f: Filter) -> int:
    return search(engine, w.principal, "contacts", SearchRequest(groups=[[f]])).total


def test_the_migration_indexes_stored_values_and_goes_back_down(engine: Engine) -> None:
    w = World.new(engine)
    w.create("contacts", 3, firstname="Ola Nordmann", email="ola@example.com")
    downgrade(engine, "0013")
    assert value_indexes(engine) == OLD
    w.create("contacts", 2, firstname="Kari Nordmann")  # stored with no trigrams kept
    upgrade(engine)
    assert value_indexes(engine) == NEW | {VALUE_TRIGRAMS} | (
        TRIGGERS if engine.dialect.name == "sqlite" else set())
    assert check_indexes(engine) == []
    assert found(engine, w, Filter("firstname", "CONTAINS_TOKEN", "nordmann")) == 5
    assert found(engine, w, Filter("firstname", "CONTAINS_TOKEN", "nordm*")) == 5
    assert found(engine, w, Filter("email", "EQ", "OLA@example.com")) == 3
