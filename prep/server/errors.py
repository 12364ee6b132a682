"""The server's refusals: each a PrepError with the HTTP status it becomes (and Retry-After when it has one)."""

from __future__ import annotations

from ..errors import InputError, NotFoundError, PrepError


class Unauthorized(PrepError):
    """No token, an unknown token, or a revoked one."""

    status = 401


class Forbidden(PrepError):
    """The token is good, but not for this."""

    status = 403


class Busy(PrepError):
    """The learner has a submission queued or running: one at a time."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueueFull(Busy):
    """The grading queue is full."""

    status = 503


class Conflict(InputError):
    """A name that is already taken (a class, a user of a class)."""

    status = 409


__all__ = ["Busy", "Conflict", "Forbidden", "InputError", "NotFoundError", "QueueFull", "Unauthorized"]
