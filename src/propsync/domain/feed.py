"""What writers record in the change log: the union of every reader's interests.

The sync engine needs the changes that can move a sync value (``Relevance``, derived from
the account's sync properties); every other reader (workflows, later lists and webhooks)
says what it needs with ``Watch`` rows. A write records a change that either needs, once:
the log is one feed, read by each reader from its own cursor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from propsync.domain.changes import Change, Watch, Watches
from propsync.domain.sync_rule import Relevance

SYNC_READER = "sync"
WORKFLOWS_READER = "workflows"
LISTS_READER = "lists"
READERS = (SYNC_READER, WORKFLOWS_READER, LISTS_READER)


@dataclass(frozen=True)
class Interests:
    """An account's interests: the sync engine's relevance and the readers' watches."""

    sync: Relevance
    watches: Watches

    @classmethod
    def of(cls, sources: Iterable[tuple[int, str, str]], watches: Iterable[Watch]
           ) -> Interests:
        """From ``(source property id, target type, source type)`` per sync property, and
        every reader's watches."""
        return cls(Relevance.of_sources(sources), Watches.of(watches))

    def matters(self, change: Change) -> bool:
        return self.sync.matters(change) or self.watches.matters(change)

    @property
    def is_empty(self) -> bool:
        """Nothing to record: no sync property, no watch."""
        return not self.sync.source_property_ids and not self.sync.object_types \
            and not self.watches
