"""Bodies of the associations v4 endpoints, as HubSpot's SDK models them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from propsync.api.schemas.common import Inputs, Model, Paging, StandardError
from propsync.api.schemas.objects import AssociationSpecIn, PublicObjectId
from propsync.domain.associations import AssociationType

Status = Literal["PENDING", "PROCESSING", "CANCELED", "COMPLETE"]


class AssociationSpecWithLabel(Model):
    category: str
    typeId: int
    label: str | None = None


def spec_of(t: AssociationType) -> AssociationSpecWithLabel:
    """``{category, typeId, label}`` of a type; the unlabeled default has a null label."""
    return AssociationSpecWithLabel(category=t.category, typeId=t.type_id, label=t.label)


class DefaultAssociation(Model):
    from_: PublicObjectId = Field(alias="from")
    to: PublicObjectId
    associationSpec: AssociationSpecIn


class BatchDefaultAssociations(Model):
    status: Status = "COMPLETE"
    results: list[DefaultAssociation]
    startedAt: str
    completedAt: str
    numErrors: int | None = None
    errors: list[StandardError] | None = None


class LabelsBetweenObjectPair(Model):
    fromObjectTypeId: str
    fromObjectId: int
    toObjectTypeId: str
    toObjectId: int
    labels: list[str]


class BatchLabels(Model):
    status: Status = "COMPLETE"
    results: list[LabelsBetweenObjectPair]
    startedAt: str
    completedAt: str
    numErrors: int | None = None
    errors: list[StandardError] | None = None


class AssociatedObject(Model):
    toObjectId: int
    associationTypes: list[AssociationSpecWithLabel]


class AssociationPage(Model):
    results: list[AssociatedObject]
    paging: Paging | None = None


class PairIn(Model):
    from_: PublicObjectId = Field(alias="from")
    to: PublicObjectId
    types: list[AssociationSpecIn] = Field(default_factory=list)


class BatchPairs(Model):
    inputs: Inputs[PairIn]


class ArchiveIn(Model):
    from_: PublicObjectId = Field(alias="from")
    to: list[PublicObjectId]


class BatchArchive(Model):
    inputs: Inputs[ArchiveIn]


class ReadIn(Model):
    id: str
    after: str | None = None


class BatchReadIn(Model):
    inputs: Inputs[ReadIn]


class MultiAssociated(Model):
    from_: PublicObjectId = Field(alias="from")
    to: list[AssociatedObject]
    paging: Paging | None = None


class BatchMulti(Model):
    status: Status = "COMPLETE"
    results: list[MultiAssociated]
    startedAt: str
    completedAt: str
    numErrors: int | None = None
    errors: list[StandardError] | None = None


class LabelCreate(Model):
    label: str
    name: str
    inverseLabel: str | None = None


class LabelUpdate(Model):
    associationTypeId: int
    label: str
    inverseLabel: str | None = None


class LabelList(Model):
    results: list[AssociationSpecWithLabel]
