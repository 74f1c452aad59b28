"""Exceptions: engine result codes as Python exceptions, and the two that
handlers raise to answer a client (Reject, MessageError)."""

from __future__ import annotations

from . import _native


class Error(Exception):
    """An rtcore C API call failed. ``code`` is the negative RTC_E* value,
    ``name`` its symbolic name (e.g. ``"RTC_EINVAL"``)."""

    def __init__(self, code: int, what: str = "") -> None:
        self.code = code
        self.name = _native.err_name(code)
        message = _native.strerror(code)
        super().__init__(f"{what}: {message} ({self.name})" if what else f"{message} ({self.name})")


class InvalidArgument(Error, ValueError):
    """RTC_EINVAL: an argument broke the protocol's rules (user id, room,
    JSON payload, close code...)."""


class StateError(Error, RuntimeError):
    """RTC_ESTATE: the engine is not in a state that allows the call (not
    started, already started, stopping)."""


class ListenError(Error, OSError):
    """RTC_ELISTEN: the address could not be bound; also RTC_ETLS: the TLS
    certificate or key could not be loaded (``code``/``name`` tell which)."""


class NotSupportedError(Error):
    """RTC_ENOTSUP: this build lacks the feature (e.g. the Redis backplane)."""


class TooBigError(Error, ValueError):
    """RTC_ETOOBIG: the message, as encoded, is larger than
    ``max_send_queue_bytes`` (no connection could ever queue it). Nothing
    was sent and no connection was affected."""


class UnavailableError(Error):
    """RTC_EUNAVAILABLE: the backplane could not answer (Redis unreachable,
    or the engine stopped while it waited)."""


_BY_CODE = {
    _native.RTC_EINVAL: InvalidArgument,
    _native.RTC_ESTATE: StateError,
    _native.RTC_ELISTEN: ListenError,
    _native.RTC_ETLS: ListenError,
    _native.RTC_ENOTSUP: NotSupportedError,
    _native.RTC_ETOOBIG: TooBigError,
    _native.RTC_EUNAVAILABLE: UnavailableError,
}


def check(code: int, what: str = "") -> None:
    """Raises the exception for a non-zero result code."""
    if code != _native.RTC_OK:
        raise _BY_CODE.get(code, Error)(code, what)


class Reject(Exception):
    """Raise from an ``on_connect`` hook to refuse a connection. The client
    sees the WebSocket close code ``4000 + status`` (e.g. 4401): the hook
    runs after the upgrade so that it never blocks the engine thread."""

    def __init__(self, status: int = 403, reason: str = "") -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"status must be 400..599, got {status}")
        self.status = status
        self.reason = reason
        super().__init__(f"{status} {reason}".strip())


class MessageError(Exception):
    """Raise from an ``on_message`` handler to answer the client with an
    ``error`` frame of this code (e.g. ``"forbidden"``, ``"invalid_field"``)
    instead of the generic ``internal_error``; nothing is logged."""

    def __init__(self, code: str, message: str = "") -> None:
        if not code:
            raise ValueError("code must not be empty")
        self.code = code
        self.message = message or code
        super().__init__(f"{code}: {self.message}")
