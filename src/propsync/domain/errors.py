"""The error hierarchy, mapped to HubSpot's error categories.

    PropsyncError                       category            status
    ├── ValidationError                 VALIDATION_ERROR    400
    │   ├── ReadOnlyValueError          (code READ_ONLY_VALUE)
    │   └── BodyTooLargeError           status 413 (code REQUEST_TOO_LARGE)
    ├── NotFoundError                   OBJECT_NOT_FOUND    404
    ├── ConflictError                   CONFLICT            409
    │   └── AlreadyExistsError          OBJECT_ALREADY_EXISTS
    ├── AuthenticationError             INVALID_AUTHENTICATION 401
    ├── ForbiddenError                  MISSING_SCOPES      403
    ├── RequestStoppedError             VALIDATION_ERROR    400 (ran past its time limit)
    └── ServerBusyError                 RATE_LIMITS         429 (+ Retry-After)

Each error carries a message a CRM administrator can act on and a list of
``ErrorDetail`` (HubSpot's ``errors[]``), each with a ``code`` and ``context``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of HubSpot's ``errors[]``."""

    message: str
    code: str | None = None
    context: dict[str, list[str]] = field(default_factory=dict)
    in_: str | None = None


class PropsyncError(Exception):
    """Base of every error propsync reports to a caller."""

    category = "VALIDATION_ERROR"
    status = 400

    def __init__(
        self,
        message: str,
        details: list[ErrorDetail] | None = None,
        context: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.context = context or {}


class ValidationError(PropsyncError):
    category = "VALIDATION_ERROR"
    status = 400


class ReadOnlyValueError(ValidationError):
    """A write to a value that nobody may write (calculated or synced)."""


class BodyTooLargeError(ValidationError):
    """A request body larger than propsync reads (HTTP 413)."""

    status = 413


class NotFoundError(PropsyncError):
    category = "OBJECT_NOT_FOUND"
    status = 404


class ConflictError(PropsyncError):
    category = "CONFLICT"
    status = 409


class AlreadyExistsError(ConflictError):
    category = "OBJECT_ALREADY_EXISTS"


class AuthenticationError(PropsyncError):
    category = "INVALID_AUTHENTICATION"
    status = 401


class ForbiddenError(PropsyncError):
    category = "MISSING_SCOPES"
    status = 403


class PermissionDeniedError(ForbiddenError):
    """The user behind the token may not do this to this data (property access rules)."""

    category = "FORBIDDEN"


class RequestStoppedError(PropsyncError):
    """A request whose database work was stopped before it finished: it ran past its time
    limit (or its client went away); what it had not saved was rolled back.

    A 400, like HubSpot's refusals of searches it will not run: the request as sent needs
    more than one request may take, so sending it again unchanged would be stopped again;
    the caller has to narrow it. Not 408 (that says the client was slow to send, and
    clients and proxies repeat it), not 429 (that invites the same request again), and not
    a 5xx (propsync did what it promises; a 5xx is a bug)."""

    category = "VALIDATION_ERROR"
    status = 400


class ServerBusyError(PropsyncError):
    """No capacity for the request right now (a database connection, a slot for a search,
    a lock held by other writes); nothing was done, and the same request may succeed after
    ``retry_after_s`` seconds: HubSpot's 429, which its clients retry."""

    category = "RATE_LIMITS"
    status = 429

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
