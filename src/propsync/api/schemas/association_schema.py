"""Bodies of the association schema's limits (HubSpot's association configurations)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from propsync.api.schemas.common import Inputs, Model
from propsync.services.association_limits import LimitView

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class LimitIn(Model):
    """``PublicAssociationDefinitionConfigurationCreateRequest`` (and ``...UpdateRequest``)."""

    category: str
    typeId: Int32
    maxToObjectIds: Int32


class BatchLimitsIn(Model):
    inputs: Inputs[LimitIn]


class SpecIn(Model):
    """``PublicAssociationSpec``."""

    category: str
    typeId: Int32


class BatchSpecsIn(Model):
    inputs: Inputs[SpecIn]


class LimitOut(Model):
    """``PublicAssociationDefinitionUserConfiguration`` (no ``label`` for an unlabeled type)."""

    category: str
    typeId: int
    label: str | None = None
    userEnforcedMaxToObjectIds: int


class LimitList(Model):
    results: list[LimitOut]


class LimitUpdateOut(Model):
    """``PublicAssociationDefinitionConfigurationUpdateResult``."""

    category: str
    typeId: int
    userEnforcedMaxToObjectIds: int


class BatchLimitsOut(Model):
    status: str = "COMPLETE"
    results: list[LimitOut]
    startedAt: str
    completedAt: str


class BatchLimitUpdatesOut(Model):
    status: str = "COMPLETE"
    results: list[LimitUpdateOut]
    startedAt: str
    completedAt: str


def limit_out(view: LimitView) -> LimitOut:
    return LimitOut(category=view.type.category, typeId=view.type.type_id,
                    label=view.type.label, userEnforcedMaxToObjectIds=view.limit)


def update_out(view: LimitView) -> LimitUpdateOut:
    return LimitUpdateOut(category=view.type.category, typeId=view.type.type_id,
                          userEnforcedMaxToObjectIds=view.limit)
