"""Reports' answer to "where is this property used?" (``property_uses``, registered in
``services/property_usage.py``): the reports of the property's object type that group by
it, measure it or filter on it. Kept apart from ``services/reports.py``, whose imports
would make a cycle with the refusal that every property deletion asks.
"""

from __future__ import annotations

from sqlalchemy import Connection

from propsync.domain.reports import parts_using
from propsync.domain.usage import Use
from propsync.storage import reports as store

KIND = "report"


def property_uses(conn: Connection, account_id: int, object_type: str, name: str
                  ) -> list[Use]:
    """The reports that read property ``name`` of ``object_type`` (its "Used in")."""
    uses = []
    for stored in store.reports_of_type(conn, account_id, object_type):
        parts = parts_using(stored.spec, name)
        if parts:
            uses.append(Use(KIND, str(stored.report_id), stored.name, object_type, parts,
                            f"/ui/reports/{stored.report_id}",
                            tuple(stored.spec.property_names())))
    return uses
