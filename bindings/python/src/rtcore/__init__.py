"""rtcore: an embeddable real-time WebSocket messaging engine, hosted on
asyncio. See README.md for a quick start."""

from . import _native
from ._app import App
from ._config import OPTIONS, Config, Defaults, Option
from ._errors import (
    Error,
    InvalidArgument,
    ListenError,
    MessageError,
    NotSupportedError,
    Reject,
    StateError,
    TooBigError,
    UnavailableError,
)
from ._types import (
    STATS_FIELDS,
    Connection,
    ConnectRequest,
    Frame,
    History,
    Message,
    PresenceEvent,
    RoomMembers,
    Stats,
)

__version__: str = _native.version()

#: The media type of App.metrics() (Prometheus text exposition 0.0.4).
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

__all__ = [
    "App",
    "Config",
    "Defaults",
    "OPTIONS",
    "Option",
    "STATS_FIELDS",
    "Connection",
    "ConnectRequest",
    "Error",
    "Frame",
    "History",
    "InvalidArgument",
    "ListenError",
    "METRICS_CONTENT_TYPE",
    "Message",
    "MessageError",
    "NotSupportedError",
    "PresenceEvent",
    "Reject",
    "RoomMembers",
    "StateError",
    "Stats",
    "TooBigError",
    "UnavailableError",
    "__version__",
]
