"""Bodies of propsync's "Used in" endpoint and of cloning a workflow."""

from __future__ import annotations

from pydantic import Field

from propsync.api.schemas.common import Model
from propsync.domain.workflows import MAX_NAME_LENGTH
from propsync.services.property_usage import Usage
from propsync.services.workflow_clones import MAX_NAME_CHARS, CloneRequest


class UseOut(Model):
    kind: str = Field(description="sync property, workflow, list or report.")
    id: str = Field(description="The asset's id (a sync property's objectType.name).")
    name: str = Field(description="The asset's name (a sync property's label).")
    objectType: str = Field(description="The asset's object type.")
    parts: list[str] = Field(description="Where in the asset the property is used, in "
                             "words: 'enrollment filter', 'action 2 writes it', 'source', ...")
    link: str = Field(description="The asset's page in propsync's web UI.")


class HiddenUsesOut(Model):
    kind: str
    count: int = Field(description="Uses of this kind in assets of object types (or, for "
                       "workflows, without the automation scope) this token may not read: "
                       "counted, never named.")


class UsageOut(Model):
    """Every use of one property, flat, ordered by kind (sync property, workflow, list,
    report) then name; the uses the token may not be told of are only counted."""

    objectType: str
    propertyName: str
    total: int = Field(description="Every use, named or not.")
    results: list[UseOut]
    hidden: list[HiddenUsesOut]


def usage_out(usage: Usage) -> UsageOut:
    return UsageOut(
        objectType=usage.prop.object_type, propertyName=usage.prop.name, total=usage.total,
        results=[UseOut(kind=u.kind, id=u.asset_id, name=u.name, objectType=u.object_type,
                        parts=list(u.parts), link=u.link) for u in usage.shown],
        hidden=[HiddenUsesOut(kind=k, count=n) for k, n in usage.hidden.items()])


class ReplaceIn(Model):
    property: str = Field(min_length=1, max_length=MAX_NAME_CHARS,
                          description="The property the workflow uses (objectType.name when "
                          "it uses properties of that name on several object types).")
    with_: str = Field(alias="with", min_length=1, max_length=MAX_NAME_CHARS,
                       description="The property to put in its place, of the same object "
                       "type, whose values compare alike.")


class CloneIn(Model):
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME_LENGTH,
                             description="The clone's name; '<name> (clone)' by default.")
    replace: ReplaceIn | None = None

    def request(self) -> CloneRequest:
        r = self.replace
        return CloneRequest(self.name, r.property if r else None, r.with_ if r else None)
