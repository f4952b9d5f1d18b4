"""Domain errors raised by services, and their one mapping to HTTP statuses.

Services raise these; pages turn them into a flashed message or a form error,
the API into ``{"error": {"code", "message"}}``, socket handlers into an ack.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details or {}


class Invalid(DomainError):
    status = 422
    code = "invalid"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class UploadRefused(DomainError):
    """An uploaded file that cannot be accepted (wrong type by content, unreadable, empty)."""

    status = 400
    code = "bad_upload"


class UploadTooLarge(UploadRefused):
    status = 413
    code = "too_large"
