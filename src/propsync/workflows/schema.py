"""What the engine knows of an account while it runs one step: its properties, sync
properties and association types, read once per transaction and kept for its length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from propsync.domain.associations import AssociationType
from propsync.domain.errors import ValidationError
from propsync.domain.filters import Filter
from propsync.domain.properties import PropertyDefinition
from propsync.storage import associations as assoc_store
from propsync.storage.properties import load_properties
from propsync.storage.search import Condition, condition_for
from propsync.storage.sync import load_sync_properties


class CriteriaUnavailable(Exception):
    """A flow's criteria name a property that no longer exists (or cannot be compared):
    the flow enrolls nobody until it is fixed."""


@dataclass
class AccountSchema:
    conn: Connection
    account_id: int
    _properties: dict[str, dict[str, PropertyDefinition]] = field(default_factory=dict)
    _synced: set[int] | None = None
    _types: dict[int, AssociationType] | None = None

    def properties(self, object_type: str) -> dict[str, PropertyDefinition]:
        """The object type's properties by name (every one: the engine is no user)."""
        if object_type not in self._properties:
            self._properties[object_type] = {
                p.name: p for p in load_properties(self.conn, self.account_id, object_type)}
        return self._properties[object_type]

    def property(self, object_type: str, name: str) -> PropertyDefinition | None:
        return self.properties(object_type).get(name)

    def names(self, object_type: str) -> dict[int, str]:
        return {p.id: p.name for p in self.properties(object_type).values()}

    def is_synced(self, property_id: int) -> bool:
        if self._synced is None:
            self._synced = {d.property_id for d in
                            load_sync_properties(self.conn, self.account_id)}
        return property_id in self._synced

    def association_type(self, type_id: int) -> AssociationType | None:
        if self._types is None:
            self._types = assoc_store.load_types(self.conn, self.account_id)
        return self._types.get(type_id)

    def criteria(self, object_type: str, groups: Sequence[Sequence[Filter]]
                 ) -> list[list[Condition]]:
        """A flow's criteria as search conditions (search's semantics, every property)."""
        out: list[list[Condition]] = []
        for group in groups:
            conditions = []
            for f in group:
                prop = self.property(object_type, f.property_name)
                if prop is None:
                    raise CriteriaUnavailable(f"property {f.property_name!r} no longer exists")
                try:
                    conditions.append(condition_for(prop, self.is_synced(prop.id), f))
                except ValidationError as exc:
                    raise CriteriaUnavailable(exc.message) from None
            out.append(conditions)
        return out
