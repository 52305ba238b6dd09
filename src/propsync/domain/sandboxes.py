"""Sandboxes (issue 16), pure: which records a sandbox gets, and its name.

A sandbox is a new account holding a copy of another's schema, labels, sync properties,
workflows (turned off), lists, reports and records: ``all`` of them, or ``sample:N``,
N records of each object type (the lowest ids of the live ones) together with every
record directly associated with one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from propsync.domain.errors import ValidationError

SAMPLE_MAX = 10_000  # records of each object type a sample may ask for
NAME_MAX = 200  # as accounts.name
_SAMPLE = re.compile(r"^sample:([1-9][0-9]{0,5})$")
# Only Enterprise accounts have sandboxes (HubSpot's standard sandboxes are Enterprise).
SANDBOX_TIER = "enterprise"


@dataclass(frozen=True)
class RecordChoice:
    """Which records a sandbox gets: every one (``sample`` is None) or a sample of
    ``sample`` records of each object type, kept whole by their direct associations."""

    sample: int | None = None

    @property
    def words(self) -> str:
        return "all" if self.sample is None else f"sample:{self.sample}"


def parse_records(text: str | None) -> RecordChoice:
    """``all`` (or nothing) or ``sample:N`` (1 <= N <= 10,000)."""
    if text is None or text.strip().lower() == "all":
        return RecordChoice()
    match = _SAMPLE.match(text.strip().lower())
    if match is None or int(match.group(1)) > SAMPLE_MAX:
        raise ValidationError(
            "records must be 'all' or 'sample:N' with N from 1 to "
            f"{SAMPLE_MAX:,} (N records of each object type, with every record associated "
            "with them).", context={"records": ["all", "sample:N"]})
    return RecordChoice(int(match.group(1)))


def sandbox_name(source_name: str, name: str | None) -> str:
    """The sandbox's name: ``name`` as given, or "<source name> (sandbox)"."""
    if name is not None:
        chosen = name.strip()
        if not chosen:
            raise ValidationError("A sandbox's name cannot be empty.")
        if len(chosen) > NAME_MAX:
            raise ValidationError(f"A sandbox's name has at most {NAME_MAX} characters.")
        return chosen
    suffix = " (sandbox)"
    return source_name[:NAME_MAX - len(suffix)] + suffix
