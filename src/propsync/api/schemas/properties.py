"""Bodies of the properties v3 endpoints (HubSpot's Property, with propsync's extensions:
``syncSource`` and ``access``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from propsync.api.schemas.common import ErrorDetailOut, Inputs, Model, StandardError
from propsync.api.schemas.sync import SyncSourceBody, sync_source_of
from propsync.domain.errors import ErrorDetail, PropsyncError, ValidationError
from propsync.domain.properties import AccessRule, Option, format_ms
from propsync.services.properties import PropertyInput, PropertyPatch, PropertyView
from propsync.services.property_groups import Group


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Text = Annotated[str, AfterValidator(_no_nul)]
Label = Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)]
Name = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
Order = Annotated[int, Field(ge=-1, le=2**31 - 1)]


class OptionBody(Model):
    label: Text
    value: Text
    displayOrder: Order = -1
    hidden: bool = False
    description: Text = ""


class AccessSide(Model):
    """``everyone``, or only the listed users and the members of the listed teams."""

    everyone: bool = True
    userIds: list[int] = Field(default_factory=list)
    teamIds: list[int] = Field(default_factory=list)

    def restriction(self, side: str) -> tuple[frozenset[int] | None, frozenset[int] | None]:
        """``(users, teams)`` of the rule; ``(None, None)`` for everyone."""
        if not self.everyone:
            return frozenset(self.userIds), frozenset(self.teamIds)
        if self.userIds or self.teamIds:
            message = (f"access.{side} says everyone and also lists users or teams: set "
                       "'everyone': false to restrict, or leave userIds and teamIds empty.")
            raise ValidationError(message, [ErrorDetail(message, "INVALID_ACCESS")])
        return None, None


class AccessBody(Model):
    """Who may view and who may edit the values (propsync extension)."""

    view: AccessSide = Field(default_factory=AccessSide)
    edit: AccessSide = Field(default_factory=AccessSide)

    def to_rule(self) -> AccessRule:
        """The domain rule; 400 when a side is contradictory."""
        (vu, vt), (eu, et) = self.view.restriction("view"), self.edit.restriction("edit")
        return AccessRule(vu, vt, eu, et)


def access_of(rule: AccessRule) -> AccessBody:
    def side(users: frozenset[int] | None, teams: frozenset[int] | None) -> AccessSide:
        if users is None and teams is None:
            return AccessSide()
        return AccessSide(everyone=False, userIds=sorted(users or ()),
                          teamIds=sorted(teams or ()))

    return AccessBody(view=side(rule.view_users, rule.view_teams),
                      edit=side(rule.edit_users, rule.edit_teams))


class PropertyCreate(Model):
    name: Name
    label: Label
    type: Name | None = None
    fieldType: Name | None = None
    groupName: Name
    description: Text = ""
    options: list[OptionBody] = Field(default_factory=list)
    displayOrder: Order = -1
    hidden: bool = False
    hasUniqueValue: bool = False
    formField: bool = False
    access: AccessBody | None = None
    syncSource: SyncSourceBody | None = None

    def to_input(self) -> PropertyInput:
        return PropertyInput(
            name=self.name, label=self.label, type=self.type, field_type=self.fieldType,
            group_name=self.groupName, description=self.description,
            options=_options(self.options), display_order=self.displayOrder,
            hidden=self.hidden, has_unique_value=self.hasUniqueValue,
            access=self.access.to_rule() if self.access else None,
            sync_source=self.syncSource.to_request() if self.syncSource else None)


class PropertyUpdate(Model):
    label: Label | None = None
    type: Name | None = None
    fieldType: Name | None = None
    groupName: Name | None = None
    description: Text | None = None
    options: list[OptionBody] | None = None
    displayOrder: Order | None = None
    hidden: bool | None = None
    formField: bool | None = None
    access: AccessBody | None = None
    syncSource: SyncSourceBody | None = None

    def to_patch(self) -> PropertyPatch:
        return PropertyPatch(
            label=self.label, description=self.description, group_name=self.groupName,
            type=self.type, field_type=self.fieldType,
            options=_options(self.options) if self.options is not None else None,
            display_order=self.displayOrder, hidden=self.hidden,
            access=self.access.to_rule() if self.access else None,
            sync_source=self.syncSource.to_request() if self.syncSource else None)


def _options(options: list[OptionBody]) -> tuple[Option, ...]:
    return tuple(Option(o.value, o.label, o.displayOrder if o.displayOrder >= 0 else i,
                        o.hidden, o.description) for i, o in enumerate(options))


class ModificationMetadata(Model):
    archivable: bool
    readOnlyDefinition: bool
    readOnlyValue: bool
    readOnlyOptions: bool | None = None


class PropertyOut(Model):
    name: str
    label: str
    type: str
    fieldType: str
    description: str
    groupName: str
    options: list[OptionBody]
    displayOrder: int
    calculated: bool
    externalOptions: bool
    hasUniqueValue: bool
    hidden: bool
    hubspotDefined: bool
    formField: bool
    modificationMetadata: ModificationMetadata
    createdAt: str
    updatedAt: str
    archived: bool
    access: AccessBody
    syncSource: SyncSourceBody | None = None


class PropertyList(Model):
    results: list[PropertyOut]


def property_out(view: PropertyView, categories: dict[int, str]) -> PropertyOut:
    p, sync = view.definition, view.sync
    return PropertyOut(
        name=p.name, label=p.label, type=p.type, fieldType=p.field_type,
        description=p.description, groupName=p.group_name,
        options=[OptionBody(label=o.label, value=o.value, displayOrder=o.display_order,
                            hidden=o.hidden, description=o.description) for o in p.options],
        displayOrder=p.display_order, calculated=p.calculated, externalOptions=False,
        hasUniqueValue=p.has_unique_value, hidden=p.hidden, hubspotDefined=p.hubspot_defined,
        formField=not p.calculated and sync is None,
        modificationMetadata=ModificationMetadata(
            archivable=not p.hubspot_defined, readOnlyDefinition=p.hubspot_defined,
            readOnlyValue=p.calculated or sync is not None),
        createdAt=format_ms(p.created_ms), updatedAt=format_ms(p.updated_ms), archived=False,
        access=access_of(p.access),
        syncSource=sync_source_of(sync, categories) if sync and view.source_shown else None)


GroupLabel = Annotated[str, StringConstraints(min_length=1, max_length=200),
                      AfterValidator(_no_nul)]


class GroupCreate(Model):
    name: Name
    label: GroupLabel
    displayOrder: Order = -1


class GroupUpdate(Model):
    label: GroupLabel | None = None
    displayOrder: Order | None = None


class GroupOut(Model):
    name: str
    label: str
    displayOrder: int
    archived: bool = False


class GroupList(Model):
    results: list[GroupOut]


def group_out(g: Group) -> GroupOut:
    return GroupOut(name=g.name, label=g.label, displayOrder=g.display_order, archived=False)


class PropertyNameIn(Model):
    name: Name


class BatchPropertyCreate(Model):
    inputs: Inputs[PropertyCreate]


class BatchPropertyNames(Model):
    inputs: Inputs[PropertyNameIn]


class BatchPropertyRead(Model):
    """HubSpot's ``BatchReadInputPropertyName``; its SDK may leave the flags out."""

    inputs: Inputs[PropertyNameIn]
    archived: bool = False
    dataSensitivity: Literal["highly_sensitive", "non_sensitive", "sensitive"] | None = None


class BatchPropertiesOut(Model):
    """HubSpot's ``BatchResponseProperty`` (``...WithErrors`` when some inputs failed)."""

    status: str = "COMPLETE"
    results: list[PropertyOut]
    startedAt: str
    completedAt: str
    numErrors: int | None = None
    errors: list[StandardError] | None = None


def batch_error(exc: PropsyncError) -> StandardError:
    """One failed input of a batch, as the single call would have reported it."""
    return StandardError(
        category=exc.category, message=exc.message, context=exc.context,
        errors=[ErrorDetailOut(message=d.message, code=d.code, context=d.context or None)
                for d in exc.details])
