"""The values handlers receive and calls return."""

from __future__ import annotations

from dataclasses import dataclass, field, make_dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _native

if TYPE_CHECKING:
    from ._app import App


#: What the frame sends take: a dict (serialized to JSON) or a str (one JSON
#: text, sent as is).
Frame = Union[Mapping[str, Any], str]


class Message(Dict[str, Any]):
    """A client message as an ``on_message`` handler receives it: the frame
    parsed into a dict, plus ``type``, ``id`` (the request id: a str, an
    int, or None when the message carried none) and ``id_json`` (that id as
    the client wrote it, "" when none; from the engine, not re-parsed)."""

    __slots__ = ("id_json",)

    def __init__(self, frame: Dict[str, Any], id_json: str) -> None:
        super().__init__(frame)
        self.id_json = id_json

    @property
    def type(self) -> str:
        return str(self.get("type", ""))

    @property
    def id(self) -> "Union[str, int, None]":
        return self.get("id") if self.id_json else None


@dataclass(frozen=True)
class ConnectRequest:
    """A WebSocket upgrade as seen by an ``on_connect`` hook.

    ``headers`` has lower-case names; the engine passes only host, origin,
    authorization, cookie, user-agent, sec-websocket-protocol and
    x-forwarded-for. ``query_params`` keeps the last value of a repeated
    name; ``query_string`` is the raw text."""

    request_id: int
    path: str
    path_params: Dict[str, str]
    query_string: str
    query_params: Dict[str, str]
    headers: Dict[str, str]


@dataclass(frozen=True)
class Connection:
    """One WebSocket connection: ``id`` is unique for the engine's life and
    never reused; calls with the id of a closed connection do nothing."""

    id: int
    user_id: str
    _app: Optional["App"] = field(default=None, repr=False, compare=False)

    async def send(self, frame: Frame, **deprecated: Any) -> None:
        """Sends ``frame`` (a dict, or its JSON text) to this connection as
        is: same as ``app.send_to_connection(self, frame)``."""
        await self._require_app().send_to_connection(self, frame, **deprecated)

    async def send_message(self, content: Any, sender: Optional[str] = None) -> None:
        """Sends ``content`` in a ``direct_message`` envelope with ``from``
        and ``timestamp``: same as ``app.send_message_to_connection(self, ...)``."""
        await self._require_app().send_message_to_connection(self, content, sender)

    async def join(self, room: str) -> None:
        await self._require_app().join(self, room)

    async def leave(self, room: str) -> None:
        await self._require_app().leave(self, room)

    async def close(self, code: int = 1000) -> None:
        await self._require_app().disconnect(self, code)

    def _require_app(self) -> "App":
        if self._app is None:
            raise RuntimeError("this Connection is not bound to an App")
        return self._app


@dataclass(frozen=True)
class PresenceEvent:
    """A user went ``"online"`` (first connection) or ``"offline"`` (last
    one gone). ``timestamp`` is RFC 3339 UTC with milliseconds."""

    user_id: str
    status: str
    timestamp: str

    @property
    def online(self) -> bool:
        return self.status == "online"


class RoomMembers(NamedTuple):
    """What ``App.room_members`` answers: the distinct users with a
    connection in the room on any node (at most the limit), and whether the
    room had more (then which ones are listed is unspecified)."""

    users: List[str]
    truncated: bool


class History(NamedTuple):
    """What ``App.history`` answers: the room's ``epoch``, its current
    ``offset`` (the last one given in this epoch; 0 before any message), and
    the stored ``message`` frames asked for, oldest first, each parsed into a
    dict (``type`` ``"message"``, ``room``, ``from``, ``content``,
    ``timestamp``, ``offset``)."""

    epoch: str
    offset: int
    messages: List[Dict[str, Any]]


#: The counters' table of the C library (rtc_stats_field): (name, kind, help),
#: kind "counter" or "gauge", in rtc_stats order.
STATS_FIELDS: List[Tuple[str, str, str]] = [tuple(f) for f in _native.stats_fields()]  # type: ignore[misc]

#: A snapshot of the engine's counters: one int field a row of the C
#: library's counters' table (STATS_FIELDS; rtc_stats in rtcore.h), under
#: its C name, so a counter added to the engine appears here by itself.
Stats = make_dataclass("Stats", [(name, int) for name, _, _ in STATS_FIELDS], frozen=True,
                       namespace={"__module__": __name__, "__doc__": "A snapshot of the engine's counters "
                                  "(rtc_stats in rtcore.h; the fields are rtcore.STATS_FIELDS)."})
