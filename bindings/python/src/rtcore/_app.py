"""rtcore.App: the asyncio-native host of one engine."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import signal
import weakref
import os
import warnings
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _native
from ._config import _ALIASES as ALIASES
from ._config import BUILTIN_TYPES, OPTIONS, Config, rate_limit_pair, resolve_aliases
from ._dispatch import Dispatcher
from ._errors import NotSupportedError, StateError, check
from ._hooks import Hooks
from ._types import Connection, Frame, History, RoomMembers, Stats

logger = logging.getLogger("rtcore")

F = TypeVar("F", bound=Callable[..., Any])
ConnLike = Union[Connection, int]

# Apps with a live engine, stopped at interpreter exit if the host never
# called stop(): the engine thread never needs the GIL, so this cannot hang.
_live: "weakref.WeakSet[App]" = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    for app in list(_live):
        app._close_now()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _conn_id(conn: ConnLike) -> int:
    cid = conn.id if isinstance(conn, Connection) else conn
    if not isinstance(cid, int) or isinstance(cid, bool) or cid <= 0:
        raise ValueError(f"not a connection or connection id: {conn!r}")
    return cid


class App:
    """One rtcore engine hosted on an asyncio loop.

    Register handlers with the decorators, then ``app.run()`` (blocking),
    ``await app.start()`` / ``await app.stop()``, or ``async with app:``.
    Handlers run on the loop that called ``start()``; built-in message types
    (join_room, leave_room, room_message, direct_message) never reach Python.
    """

    def __init__(
        self,
        redis_url: Optional[str] = None,
        ping_interval: Optional[float] = None,
        *,
        host: str = "127.0.0.1",
        port: Optional[int] = None,
        jwt_secret: Union[None, str, bytes] = None,
        rate_limit: Union[None, int, Tuple[int, int]] = None,
        rate_limit_per_s: Optional[int] = None,
        rate_limit_burst: Optional[int] = None,
        shutdown_timeout: float = 1.0,
        **options: Any,
    ) -> None:
        """``options``: every setting of the C library's table by its Python
        name (``rtcore.OPTIONS``; e.g. ``max_message_size``, ``history_size``,
        ``history_ttl``, durations in seconds), defaulting to
        ``rtc_config_init``'s values (``rtcore.Defaults``). An unknown name
        is a TypeError, a bad value a ValueError naming it.

        ``host`` and ``port`` are the address ``start()`` and ``run()`` listen
        on unless they are given their own; without a port anywhere,
        ``start()`` picks a free one (0) and ``run()`` uses 8000."""
        unknown = sorted(set(options) - set(OPTIONS) - set(ALIASES) - {"host", "port"})
        if unknown:
            raise TypeError(f"App() got unknown settings {unknown} (known: {sorted(OPTIONS)})")
        options = resolve_aliases(options)
        if redis_url is not None:
            options["redis_url"] = redis_url
        if ping_interval is not None:
            options["ping_interval"] = ping_interval
        per_s, burst = rate_limit_pair(rate_limit, rate_limit_per_s, rate_limit_burst)
        self.config = Config(
            jwt_secret=jwt_secret,  # normalised to bytes
            rate_limit_per_s=per_s,
            rate_limit_burst=burst,
            shutdown_timeout=shutdown_timeout,
            **options,
        )
        self._default_address = (host, port)
        self._hooks = Hooks()
        self._engine: Optional[_native.Engine] = None
        self._installed = 0  # engine hooks installed at start
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._dispatcher: Optional[Dispatcher] = None
        self._host = ""
        # Presence queries waiting for their answer: token -> future.
        self._queries: "dict[int, asyncio.Future[Any]]" = {}
        self._next_query = 0

    # ---- handler registration ---------------------------------------------

    def on_connect(self, fn: F) -> F:
        """``fn(req: ConnectRequest) -> str | None | bool`` (may be async).

        Return the user id to register (a str), None/True for the path's
        user id, False to refuse (403), or raise ``Reject(status)``. The
        decision is made after the WebSocket upgrade, so a refusal reaches
        the client as close code ``4000 + status``."""
        self._require_hook(_native.HOOK_CONNECT, "on_connect")
        self._hooks.connect = fn
        return fn

    def on_open(self, fn: F) -> F:
        """``fn(conn: Connection)``: a connection is registered."""
        self._require_hook(_native.HOOK_OPEN, "on_open")
        self._hooks.open = fn
        return fn

    def on_disconnect(self, fn: F) -> F:
        """``fn(conn: Connection, close_code: int)``: a connection is gone."""
        self._require_hook(_native.HOOK_DISCONNECT, "on_disconnect")
        self._hooks.disconnect = fn
        return fn

    def on_presence(self, fn: F) -> F:
        """``fn(event: PresenceEvent)``: a user went online or offline."""
        self._require_hook(_native.HOOK_PRESENCE, "on_presence")
        self._hooks.presence = fn
        return fn

    def on_authorize(self, fn: F) -> F:
        """``fn(conn: Connection, action: str, target: str) -> bool`` (may be
        async): may this connection do ``action`` on ``target``?

        ``action`` is ``"join_room"`` or ``"room_message"`` (``target`` is
        the room) or ``"direct_message"`` (``target`` is the recipient's user
        id). Return True to let the message take effect; False refuses it
        with ``{"type":"error","code":"forbidden"}`` (with the request's
        ``id``). Any other result, an exception or no answer within 10 s
        refuses too (and is logged). The engine holds the message, and the
        connection's later messages, until the hook answers, so order is
        kept. Without this hook the engine allows everything without asking
        Python."""
        self._require_hook(_native.HOOK_AUTHORIZE, "on_authorize")
        self._hooks.authorize = fn
        return fn

    def on_message(self, type_: str) -> Callable[[F], F]:
        """``fn(conn: Connection, message: Message)`` for client messages of
        a host-defined ``type_`` (``message`` is the frame as a dict, with
        ``message.id`` the request id). If the message has an ``id``, the
        client gets exactly one answer: an ack when the handler returns, one
        error frame if it raises (``MessageError`` chooses the code; anything
        else is logged with its traceback and answered with
        ``internal_error``), nothing more if the handler answered that id
        itself with ``send_error`` (docs/hosts.md)."""
        if not isinstance(type_, str) or not type_:
            raise ValueError("message type must be a non-empty string")
        if type_ in BUILTIN_TYPES:
            raise ValueError(f"{type_!r} is a built-in type handled by the engine")

        def register(fn: F) -> F:
            self._require_hook(_native.HOOK_MESSAGE, "on_message")
            self._hooks.messages[type_] = fn
            return fn

        return register

    def _require_hook(self, bit: int, name: str) -> None:
        if self._engine is not None and not self._installed & bit:
            raise StateError(_native.RTC_ESTATE, f"register {name} handlers before start()")

    # ---- lifecycle ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._engine is not None

    @property
    def port(self) -> int:
        """The listening port (useful with port=0), 0 when not running."""
        return self._engine.port() if self._engine is not None else 0

    @property
    def internal_port(self) -> int:
        """The internal listener's port (``internal_listen``), 0 without one
        or when not running."""
        return self._engine.internal_port() if self._engine is not None else 0

    @property
    def host(self) -> str:
        return self._host

    @property
    def node_id(self) -> str:
        return self._engine.node_id() if self._engine is not None else ""

    @property
    def url(self) -> str:
        """``ws://host:port`` of the running engine (``wss://`` with TLS)."""
        scheme = "wss" if self.config.tls else "ws"
        return f"{scheme}://{self._host}:{self.port}"

    def __repr__(self) -> str:
        state = f"listening on {self.url}" if self._engine is not None else "stopped"
        return f"<rtcore.App {state} auth={self.config.auth!r}>"

    async def start(self, host: Optional[str] = None, port: Optional[int] = None) -> None:
        """Creates the engine and listens; returns once it accepts clients.
        Raises ListenError (address in use), NotSupportedError (e.g. a
        redis_url in a build without the Redis backplane), StateError if
        already running."""
        if self._engine is not None:
            raise StateError(_native.RTC_ESTATE, "start")
        host = self._default_address[0] if host is None else host
        if port is None:
            port = 0 if self._default_address[1] is None else self._default_address[1]
        # The engine's log lines always go to logging.getLogger("rtcore").
        mask = self._hooks.native_mask() | _native.HOOK_LOG
        kwargs = self.config.native_kwargs(host, port, mask)
        loop = asyncio.get_running_loop()
        engine = _native.Engine()
        rc = engine.create(**kwargs)
        if rc != _native.RTC_OK:
            if rc == _native.RTC_ENOTSUP and self.config.redis_url:
                check(rc, "redis_url is set but this rtcore build has no Redis backplane yet")
            if rc == _native.RTC_ENOTSUP and self.config.tls:
                check(rc, "tls_cert/tls_key are set but this rtcore build has no TLS")
            check(rc, "rtc_engine_create")
        rc = engine.start()
        if rc != _native.RTC_OK:
            engine.destroy()
            if self.config.tls:
                check(rc, f"cannot listen on {host}:{port} with TLS (is tls_cert a PEM certificate and "
                          f"tls_key its private key?)")
            check(rc, f"cannot listen on {host}:{port}")
        self._engine, self._installed, self._loop, self._host = engine, mask, loop, host
        self._dispatcher = Dispatcher(self, loop)
        loop.add_reader(engine.fileno(), self._drain)
        _live.add(self)

    async def stop(self, timeout: Optional[float] = None) -> None:
        """Closes every connection (close code 1001), waits at most
        ``timeout`` seconds (default: shutdown_timeout) for the clients,
        runs the last disconnect/presence handlers, and waits the same time
        for handler tasks still running. Idempotent."""
        engine, loop, dispatcher = self._engine, self._loop, self._dispatcher
        if engine is None or loop is None or dispatcher is None:
            return
        timeout = self.config.shutdown_timeout if timeout is None else timeout
        timeout_ms = max(1, int(timeout * 1000))
        # In a worker thread so the loop keeps serving (e.g. FastAPI) while
        # the engine says goodbye to its clients; the GIL is released.
        await loop.run_in_executor(None, engine.stop, timeout_ms)
        self._drain()  # the disconnects and presence changes of the stop itself
        loop.remove_reader(engine.fileno())
        if dispatcher.pending:
            await asyncio.wait(set(dispatcher.pending), timeout=timeout)
        self._engine = None
        _live.discard(self)
        await loop.run_in_executor(None, engine.destroy)
        self._fail_queries()

    def _close_now(self) -> None:
        """Synchronous teardown for interpreter exit (no loop needed)."""
        engine, self._engine = self._engine, None
        if engine is None:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.remove_reader(engine.fileno())
            except Exception:  # the loop may belong to a finished thread
                pass
        engine.destroy()

    async def __aenter__(self) -> "App":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def run(self, host: Optional[str] = None, port: Optional[int] = None) -> None:
        """Serves until SIGINT or SIGTERM, like ``uvicorn.run``. ``host`` and
        ``port`` override the App's own; with no port here nor in ``App()``
        it listens on 8000."""
        if port is None and self._default_address[1] is None:
            port = 8000
        asyncio.run(self._serve(host, port))

    async def _serve(self, host: Optional[str], port: Optional[int]) -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, done.set)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        await self.start(host, port)
        logger.info("rtcore %s listening on %s (node %s)", _native.version(), self.url, self.node_id)
        try:
            await done.wait()
        finally:
            await self.stop()

    def _drain(self) -> None:
        engine, dispatcher = self._engine, self._dispatcher
        if engine is not None and dispatcher is not None:
            dispatcher.dispatch(engine.drain())

    # ---- server-side calls (any coroutine on the app's loop) ------------------

    def _require_engine(self) -> _native.Engine:
        if self._engine is None:
            raise StateError(_native.RTC_ESTATE, "the app is not running")
        return self._engine

    @staticmethod
    def _frame(frame: Any) -> str:
        if isinstance(frame, str):
            return frame
        if isinstance(frame, Mapping):
            return _dumps(frame)
        raise TypeError(f"a frame is a dict or its JSON text (str), not {type(frame).__name__}; "
                        f"use the *_message calls to send any value as content")

    def _frame_call(self, what: str, envelope: str, frame: Any, deprecated: "dict[str, Any]") -> "tuple[int, str, str]":
        """(kind, sender, payload) of a frame send, honouring the deprecated
        ``sender=`` (the envelope call) and ``raw=`` keywords."""
        unknown = set(deprecated) - {"sender", "raw"}
        if unknown:
            raise TypeError(f"{what}() got unexpected keyword arguments {sorted(unknown)}")
        raw = deprecated.get("raw")
        sender = deprecated.get("sender")
        if raw is not None:
            warnings.warn(f"{what}(raw=...) is deprecated: {what}() always sends the frame as is "
                          f"(use {envelope}() for the message envelope)", DeprecationWarning, stacklevel=3)
        if sender is not None or raw is False:
            if sender is not None:
                warnings.warn(f"{what}(sender=...) is deprecated: use {envelope}(..., sender=...) for the "
                              f"message envelope", DeprecationWarning, stacklevel=3)
            return _native.PAYLOAD_CONTENT, sender or "", _dumps(frame)
        return _native.PAYLOAD_RAW, "", self._frame(frame)

    # Frame sends: the dict (or JSON text) IS the frame (docs/hosts.md).

    async def send_to_user(self, user_id: str, frame: Frame, **deprecated: Any) -> None:
        """Sends ``frame`` (a dict, or one JSON text as a str) as is to every
        connection of ``user_id``. An unknown user is not an error."""
        kind, sender, payload = self._frame_call("send_to_user", "send_message_to_user", frame, deprecated)
        check(self._require_engine().send_to_user(user_id, sender, kind, payload), "send_to_user")

    async def send_to_connection(self, conn: ConnLike, frame: Frame, **deprecated: Any) -> None:
        """Like send_to_user, for one connection (a stale id is ignored)."""
        kind, sender, payload = self._frame_call("send_to_connection", "send_message_to_connection", frame,
                                                 deprecated)
        engine = self._require_engine()
        check(engine.send_to_connection(_conn_id(conn), sender, kind, payload), "send_to_connection")

    async def broadcast(self, room: str, frame: Frame, **deprecated: Any) -> None:
        """Sends ``frame`` as is to every member of ``room`` (encoded once)."""
        kind, sender, payload = self._frame_call("broadcast", "broadcast_message", frame, deprecated)
        check(self._require_engine().broadcast(room, sender, kind, payload), "broadcast")

    # Envelope sends: the engine builds the protocol's message envelope.

    async def broadcast_message(self, room: str, content: Any, sender: Optional[str] = None) -> None:
        """Sends ``{"type":"message","room":room,"from":sender or "",
        "content":content,"timestamp":T}`` (with ``offset`` when history is
        on) to every member of ``room``; ``content`` is any JSON value."""
        check(self._require_engine().broadcast(room, sender or "", _native.PAYLOAD_CONTENT, _dumps(content)),
              "broadcast_message")

    async def send_message_to_user(self, user_id: str, content: Any, sender: Optional[str] = None) -> None:
        """Sends ``{"type":"direct_message","from":sender or "","content":
        content,"timestamp":T}`` (with ``offset`` when history is on) to
        every connection of ``user_id``."""
        check(self._require_engine().send_to_user(user_id, sender or "", _native.PAYLOAD_CONTENT, _dumps(content)),
              "send_message_to_user")

    async def send_message_to_connection(self, conn: ConnLike, content: Any, sender: Optional[str] = None) -> None:
        """Like send_message_to_user, for one connection."""
        engine = self._require_engine()
        check(engine.send_to_connection(_conn_id(conn), sender or "", _native.PAYLOAD_CONTENT, _dumps(content)),
              "send_message_to_connection")

    async def join(self, conn: ConnLike, room: str) -> None:
        """Makes a connection a member of ``room`` (as if it sent join_room)."""
        check(self._require_engine().join(_conn_id(conn), room), "join")

    async def leave(self, conn: ConnLike, room: str) -> None:
        check(self._require_engine().leave(_conn_id(conn), room), "leave")

    async def send_error(self, conn: ConnLike, code: str, message: str = "",
                         request_id: Union[str, int, None] = None) -> None:
        """Sends ``{"type":"error","code":code,"message":message[,"id":..]}``."""
        if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, (str, int))):
            raise ValueError(f"request_id must be a str, an int or None, got {request_id!r}")
        rid = "" if request_id is None else _dumps(request_id)
        cid = _conn_id(conn)
        check(self._require_engine().send_error(cid, code, message or code, rid), "send_error")
        if rid and self._dispatcher is not None:
            self._dispatcher.answered(cid, rid)  # the ack rule: nothing more for this id

    async def disconnect(self, target: Union[Connection, int, str], code: int = 1000) -> None:
        """Closes one connection (a Connection or an id), or every connection
        of a user (a str user id), with ``code`` (1000 or 3000..4999)."""
        engine = self._require_engine()
        if isinstance(target, str):
            check(engine.disconnect_user(target, code), "disconnect")
        else:
            check(engine.disconnect(_conn_id(target), code), "disconnect")

    # ---- presence queries (docs/protocol.md section 9) ------------------------

    async def room_members(self, room: str, limit: Optional[int] = None) -> RoomMembers:
        """The distinct users with a connection in ``room`` on any node, as
        ``RoomMembers(users, truncated)``: at most ``limit`` users (default:
        the ``presence_limit`` setting); ``truncated`` is True when the room
        had more. With Redis the answer comes from Redis. Raises
        InvalidArgument for a bad room or limit, UnavailableError when Redis
        could not answer, StateError when the engine is not running."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 2**32 - 1):
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        engine = self._require_engine()
        token, future = self._new_query()
        self._query_sent(token, engine.room_members(room, limit or 0, token), "room_members")
        status, users, truncated, _ = await future
        check(status, "room_members")
        return RoomMembers(users, truncated)

    async def is_online(self, users: Sequence[str]) -> "dict[str, bool]":
        """Whether each user has a connection on any node: ``{user: bool}``
        for 1..1000 user ids (duplicates answered once). Raises as
        room_members does."""
        if isinstance(users, str):
            raise TypeError("is_online takes a sequence of user ids, not one string")
        unique = list(dict.fromkeys(users))
        engine = self._require_engine()
        token, future = self._new_query()
        self._query_sent(token, engine.users_online(unique, token), "is_online")
        status, names, _, flags = await future
        check(status, "is_online")
        return dict(zip(names, flags))

    # ---- history (docs/protocol.md section 8) --------------------------------

    async def history(self, room: str, limit: int = 50, before: Optional[int] = None) -> History:
        """The newest ``limit`` stored messages of ``room`` with an offset
        below ``before`` (None: no bound), oldest first, as
        ``History(epoch, offset, messages)``: ``offset`` is the room's current
        offset and each message the stored frame as a dict. At most 1000 and
        at most ``history_size`` messages are returned. With Redis the
        history comes from Redis, otherwise from this process. Raises
        ValueError (InvalidArgument from the engine) for a bad room, limit or
        before, NotSupportedError when the app runs without history
        (``history_size`` 0), UnavailableError when the history could not be
        read, StateError when the engine is not running."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 2**32 - 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        if before is not None and (not isinstance(before, int) or isinstance(before, bool)
                                   or not 1 <= before <= 2**53):
            raise ValueError(f"before must be None or an offset 1..2**53, got {before!r}")
        engine = self._require_engine()
        token, future = self._new_query()
        rc = engine.history(room, limit, before or 0, token)
        if rc == _native.RTC_ENOTSUP:
            self._queries.pop(token, None)
            raise NotSupportedError(rc, "history: the app runs without history (set history_size)")
        self._query_sent(token, rc, "history")
        answer = await future
        check(answer[0], "history")
        _, epoch, top, frames = answer
        return History(epoch, top, [json.loads(frame) for frame in frames])

    def _new_query(self) -> "tuple[int, asyncio.Future[Any]]":
        self._next_query += 1
        future: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._queries[self._next_query] = future
        return self._next_query, future

    def _query_sent(self, token: int, rc: int, what: str) -> None:
        if rc != _native.RTC_OK:
            self._queries.pop(token, None)
            check(rc, what)

    def _answer(self, token: int, *answer: Any) -> None:
        # answer: (status, users, truncated, flags) for the presence queries,
        # (status, epoch, top, frames) for history; callers check the status
        # before they unpack the rest.
        future = self._queries.pop(token, None)
        if future is not None and not future.done():
            future.set_result(answer)

    def _fail_queries(self) -> None:
        # The engine answers every query it took, if only with RTC_ESTATE;
        # whatever is left (an answer lost to memory exhaustion) fails here.
        queries, self._queries = self._queries, {}
        for future in queries.values():
            if not future.done():
                future.set_result((_native.RTC_ESTATE, [], False, []))

    def stats(self) -> Stats:
        """A snapshot of the engine's counters."""
        values = self._require_engine().stats()
        check(values.pop("rc"), "stats")
        known = Stats.__dataclass_fields__  # a newer library may count more
        return Stats(**{k: v for k, v in values.items() if k in known})

    def metrics(self) -> str:
        """Every counter, gauge and histogram in the Prometheus text format
        (what the engine's ``GET /metrics`` serves), e.g. for a FastAPI
        route: ``Response(app.metrics(), media_type=rtcore.METRICS_CONTENT_TYPE)``."""
        rc, text = self._require_engine().metrics()
        check(rc, "metrics")
        return text
