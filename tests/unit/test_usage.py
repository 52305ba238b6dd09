"""Which property may take another's place in a clone (domain/usage.py)."""

from __future__ import annotations

import pytest

from propsync.domain.errors import ValidationError
from propsync.domain.properties import Option, PropertyDefinition
from propsync.domain.usage import check_replacement, incompatible


def prop(pid: int, name: str, type_: str = "string", object_type: str = "contacts",
         options: tuple[str, ...] = ()) -> PropertyDefinition:
    return PropertyDefinition(pid, object_type, name, name, type_, "text", "g",
                              options=tuple(Option(o, o) for o in options))


def test_text_replaces_text_and_a_date_a_datetime() -> None:
    assert incompatible(prop(1, "company_copy"), prop(2, "company_sync")) is None
    assert incompatible(prop(1, "d", "date"), prop(2, "dt", "datetime")) is None


@pytest.mark.parametrize("new", [
    prop(2, "n", "number"),  # another kind of value
    prop(2, "other", object_type="companies"),  # another object type
    prop(1, "same"),  # itself
    prop(2, "e", "enumeration", options=("a",)),
])
def test_refused_with_the_reason(new: PropertyDefinition) -> None:
    old = prop(1, "old")
    assert incompatible(old, new) is not None
    with pytest.raises(ValidationError) as exc:
        check_replacement(old, new)
    assert exc.value.details[0].code == "INCOMPATIBLE_REPLACEMENT"
    assert new.name in exc.value.message


def test_an_enumeration_must_keep_every_option() -> None:
    old = prop(1, "stage_copy", "enumeration", options=("a", "b"))
    assert incompatible(old, prop(2, "stage_sync", "enumeration", options=("a", "b", "c"))) \
        is None
    reason = incompatible(old, prop(2, "stage_sync", "enumeration", options=("a",)))
    assert reason is not None and "(b)" in reason
