"""Lists' answer to "where is this property used?" (``property_uses``, registered in
``services/property_usage.py``): the live lists of the property's object type whose filter
names it. Kept apart from ``services/lists.py``, whose imports would make a cycle with the
refusal that every property deletion asks.
"""

from __future__ import annotations

from sqlalchemy import Connection

from propsync.domain.usage import Use
from propsync.storage import lists as store

KIND = "list"


def property_uses(conn: Connection, account_id: int, object_type: str, name: str
                  ) -> list[Use]:
    """The live lists whose filter names the property."""
    return [Use(KIND, str(s.list_id), s.name, s.object_type, s.filter.parts_using(name),
                f"/ui/lists/{s.list_id}", tuple(s.filter.property_names))
            for s in store.live_lists(conn, account_id, [object_type])
            if s.filter is not None and name in s.filter.property_names]
