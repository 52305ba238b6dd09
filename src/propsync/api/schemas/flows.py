"""HubSpot's Automation v4 flow shapes: the listing, the flow itself, batch read.

A flow's definition is read by ``domain/workflows.parse_flow`` (which names any part
outside the supported subset), so request bodies reach the service as JSON objects; the
models here describe what the API answers, for its OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from propsync.api.schemas.common import Inputs, Model, Paging, StandardError
from propsync.domain.properties import format_ms
from propsync.domain.workflow_shape import next_available_action_id
from propsync.storage.workflows import StoredFlow


class FlowIn(Model):
    """HubSpot's ``ApiFlowCreateRequest`` (``ApiContactFlowCreateRequest`` /
    ``ApiPlatformFlowCreateRequest``): its members are read by the service, which names
    any part outside the supported subset; other members (the server's fields of a flow
    fetched from HubSpot) are passed on and ignored."""

    model_config = ConfigDict(extra="allow")

    type: Any = None
    objectTypeId: Any = None
    flowType: Any = None
    name: Any = None
    description: Any = None
    isEnabled: Any = None
    uuid: Any = None
    startActionId: Any = None
    actions: Any = None
    enrollmentCriteria: Any = None
    dataSources: Any = None
    blockedDates: Any = None
    timeWindows: Any = None
    customProperties: Any = None
    suppressionListIds: Any = None
    suppressionFilterBranch: Any = None
    canEnrollFromSalesforce: Any = None
    goalFilterBranch: Any = None
    eventAnchor: Any = None
    enrollmentSchedule: Any = None
    unEnrollmentSetting: Any = None

    def body(self) -> dict[str, Any]:
        """The members as sent (a member left out stays out)."""
        return self.model_dump(exclude_unset=True)


class FlowPutIn(FlowIn):
    """HubSpot's ``ApiFlowPutRequest``: the whole flow, and the ``revisionId`` it replaces."""

    revisionId: Any = None


class FlowListing(Model):
    """HubSpot's ``ApiFlowListing``."""

    id: str
    revisionId: str
    name: str
    objectTypeId: str
    flowType: str
    isEnabled: bool
    createdAt: str
    updatedAt: str
    uuid: str


class FlowList(Model):
    """HubSpot's ``CollectionResponseApiFlowListingForwardPaging``."""

    results: list[FlowListing]
    paging: Paging | None = None


class FlowOut(Model):
    """HubSpot's ``ApiFlow`` (``ApiContactFlow`` / ``ApiPlatformFlow``): the server's
    fields, then the definition as saved (``actions``, ``enrollmentCriteria``, ...)."""

    model_config = ConfigDict(extra="allow")

    id: str
    revisionId: str
    type: Literal["CONTACT_FLOW", "PLATFORM_FLOW"]
    objectTypeId: str
    flowType: str
    isEnabled: bool
    createdAt: str
    updatedAt: str
    uuid: str
    crmObjectCreationStatus: Literal["COMPLETE"] = "COMPLETE"
    nextAvailableActionId: str
    actions: list[dict[str, Any]]
    dataSources: list[dict[str, Any]]
    blockedDates: list[dict[str, Any]]
    timeWindows: list[dict[str, Any]]
    customProperties: dict[str, str]


def _flow_id(value: object) -> object:
    """A flow id written as a JSON number is read as its digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class FlowIdIn(Model):
    """HubSpot's ``ApiFlowBatchFetchFlowIdCoordinate``."""

    flowId: Annotated[str, BeforeValidator(_flow_id), Field(max_length=100)]
    type: Literal["FLOW_ID"] = "FLOW_ID"


class FlowBatchIn(Model):
    """HubSpot's ``ApiFlowBatchInput``."""

    inputs: Inputs[FlowIdIn]


class FlowBatchOut(Model):
    """HubSpot's ``BatchResponseApiFlow`` (``...WithErrors`` when some were not found)."""

    status: str = "COMPLETE"
    results: list[FlowOut]
    startedAt: str
    completedAt: str
    numErrors: int | None = None
    errors: list[StandardError] | None = None


def flow_out(stored: StoredFlow) -> dict[str, Any]:
    """The flow as HubSpot's API shows it."""
    return {"id": str(stored.flow_id), "revisionId": str(stored.revision),
            "isEnabled": stored.enabled, "createdAt": format_ms(stored.created_ms),
            "updatedAt": format_ms(stored.updated_ms), "uuid": stored.uuid,
            "crmObjectCreationStatus": "COMPLETE",
            "nextAvailableActionId": next_available_action_id(stored.definition),
            **stored.definition}


def listing_out(stored: StoredFlow) -> FlowListing:
    return FlowListing(id=str(stored.flow_id), revisionId=str(stored.revision),
                       name=stored.name, objectTypeId=stored.flow.object_type_id,
                       flowType=stored.definition.get("flowType", "WORKFLOW"),
                       isEnabled=stored.enabled, createdAt=format_ms(stored.created_ms),
                       updatedAt=format_ms(stored.updated_ms), uuid=stored.uuid)
