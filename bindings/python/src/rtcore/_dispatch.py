"""Turns batches of engine events into handler calls on the asyncio loop.

A handler may be a plain function or a coroutine function: its result is
awaited in a task when it is awaitable, so one slow handler never holds up
the batch. Tasks start in event order, so a connection's handlers start in
the order its events happened."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qsl

from . import _native
from ._errors import Error, MessageError, Reject
from ._types import Connection, ConnectRequest, Message, PresenceEvent

if TYPE_CHECKING:
    from ._app import App

logger = logging.getLogger("rtcore")
# RTC_LOG_* -> logging levels.
_LOG_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}

Handler = Callable[..., Any]

# RTC_ACTION_* -> the action name an on_authorize hook receives.
ACTIONS: Dict[int, str] = {
    _native.ACTION_JOIN_ROOM: "join_room",
    _native.ACTION_ROOM_MESSAGE: "room_message",
    _native.ACTION_DIRECT_MESSAGE: "direct_message",
    _native.ACTION_PRESENCE: "presence",
    _native.ACTION_ONLINE: "online",
}


def _id_key(conn_id: int, request_id: Any) -> Tuple[int, str, Any]:
    return (conn_id, type(request_id).__name__, request_id)


class Dispatcher:
    def __init__(self, app: "App", loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._loop = loop
        self._tasks: Set[asyncio.Task[Any]] = set()
        # Messages with an id whose handler has not finished: (conn, id) ->
        # one flag a message, set once the handler answered it itself with
        # send_error (then nothing more is sent for it).
        self._open: Dict[Tuple[int, str, Any], List[List[bool]]] = {}

    @property
    def pending(self) -> Set[asyncio.Task[Any]]:
        return self._tasks

    def dispatch(self, batch: list) -> None:
        for event in batch:
            kind = event[0]
            try:
                if kind == _native.EVENT_MESSAGE:
                    self._message(*event[1:])
                elif kind == _native.EVENT_AUTHORIZE:
                    self._authorize(*event[1:])
                elif kind == _native.EVENT_CONNECT:
                    self._connect(*event[1:])
                elif kind == _native.EVENT_OPEN:
                    self._simple(self._app._hooks.open, "on_open", Connection(event[1], event[2], self._app))
                elif kind == _native.EVENT_DISCONNECT:
                    conn = Connection(event[1], event[2], self._app)
                    self._simple(self._app._hooks.disconnect, "on_disconnect", conn, event[3])
                elif kind == _native.EVENT_LOG:
                    self._log(*event[1:])
                elif kind == _native.EVENT_ANSWER or kind == _native.EVENT_HISTORY:
                    self._app._answer(*event[1:])
                elif kind == _native.EVENT_PRESENCE:
                    status = "online" if event[2] == _native.PRESENCE_ONLINE else "offline"
                    self._simple(self._app._hooks.presence, "on_presence", PresenceEvent(event[1], status, event[3]))
            except Exception:  # a bug here must not lose the rest of the batch
                logger.exception("rtcore: failed to dispatch event %r", event[:2])

    # ---- engine log lines -------------------------------------------------

    def _log(self, level: int, event: str, message: str, fields_json: str) -> None:
        """One engine line to logging.getLogger("rtcore"): the message as
        is, the event name and fields as ``rtcore_event`` / ``rtcore_fields``
        on the record (for a structured formatter)."""
        pylevel = _LOG_LEVELS.get(level, logging.DEBUG)
        if not logger.isEnabledFor(pylevel):
            return
        try:
            fields = json.loads(fields_json) if fields_json else {}
        except ValueError:
            fields = {}
        logger.log(pylevel, "%s", message, extra={"rtcore_event": event, "rtcore_fields": fields})

    # ---- running handlers -------------------------------------------------

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        task = self._loop.create_task(awaitable)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _simple(self, handler: Optional[Handler], name: str, *args: Any) -> None:
        if handler is None:
            return
        try:
            result = handler(*args)
        except Exception:
            logger.exception("rtcore: %s handler %s raised", name, _name(handler))
            return
        if inspect.isawaitable(result):
            self._spawn(self._await_logged(result, name, handler))

    async def _await_logged(self, result: Awaitable[Any], name: str, handler: Handler) -> None:
        try:
            await result
        except Exception:
            logger.exception("rtcore: %s handler %s raised", name, _name(handler))

    # ---- on_connect -------------------------------------------------------

    def _connect(self, request_id: int, user_id: str, path: str, query: str, headers: list) -> None:
        req = ConnectRequest(
            request_id=request_id,
            path=path,
            path_params={"user_id": user_id},
            query_string=query,
            query_params=dict(parse_qsl(query, keep_blank_values=True)),
            headers=dict(headers),
        )
        hook = self._app._hooks.connect
        if hook is None:  # hook removed after start: accept as the engine would
            self._resolve(req, True, 0, "")
            return
        try:
            result = hook(req)
        except BaseException as exc:
            self._finish_connect(req, None, exc)
            return
        if inspect.isawaitable(result):
            self._spawn(self._await_connect(req, result))
        else:
            self._finish_connect(req, result, None)

    async def _await_connect(self, req: ConnectRequest, result: Awaitable[Any]) -> None:
        try:
            value = await result
        except BaseException as exc:
            self._finish_connect(req, None, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self._finish_connect(req, value, None)

    def _finish_connect(self, req: ConnectRequest, value: Any, exc: Optional[BaseException]) -> None:
        if isinstance(exc, Reject):
            self._resolve(req, False, exc.status, "")
        elif exc is not None:
            if isinstance(exc, Exception):
                logger.error("rtcore: on_connect hook raised; refusing with 500", exc_info=exc)
            self._resolve(req, False, 500 if isinstance(exc, Exception) else 503, "")
        elif value is None or value is True:
            self._resolve(req, True, 0, "")
        elif value is False:
            self._resolve(req, False, 403, "")
        elif isinstance(value, str):
            self._resolve(req, True, 0, value)
        else:
            logger.error("rtcore: on_connect returned %r (want str, None, True or False); refusing with 500", value)
            self._resolve(req, False, 500, "")

    def _resolve(self, req: ConnectRequest, accept: bool, status: int, user_id: str) -> None:
        engine = self._app._engine
        if engine is None:
            return  # stopped meanwhile: the engine has closed the socket
        rc = engine.resolve(req.request_id, accept, status, user_id)
        if rc == _native.RTC_EINVAL and accept:
            logger.error("rtcore: on_connect returned an invalid user id %r; refusing with 500", user_id)
            rc = engine.resolve(req.request_id, False, 500, "")
        if rc not in (_native.RTC_OK, _native.RTC_ESTATE):
            logger.error("rtcore: rtc_connect_resolve failed: %s", Error(rc))

    # ---- on_authorize -----------------------------------------------------

    def _authorize(self, conn_id: int, user_id: str, action: int, target: str, request_id: int) -> None:
        hook = self._app._hooks.authorize
        if hook is None:  # hook removed after start: allow as the engine would
            self._resolve_authorization(request_id, True)
            return
        conn = Connection(conn_id, user_id, self._app)
        name = ACTIONS.get(action)
        if name is None:  # an action this host does not know: refuse it
            logger.error("rtcore: on_authorize asked about unknown action %d; refusing", action)
            self._resolve_authorization(request_id, False)
            return
        try:
            result = hook(conn, name, target)
        except BaseException as exc:
            self._finish_authorize(request_id, hook, None, exc)
            return
        if inspect.isawaitable(result):
            self._spawn(self._await_authorize(request_id, hook, result))
        else:
            self._finish_authorize(request_id, hook, result, None)

    async def _await_authorize(self, request_id: int, hook: Handler, result: Awaitable[Any]) -> None:
        try:
            value = await result
        except BaseException as exc:
            self._finish_authorize(request_id, hook, None, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self._finish_authorize(request_id, hook, value, None)

    def _finish_authorize(self, request_id: int, hook: Handler, value: Any, exc: Optional[BaseException]) -> None:
        """Anything but a plain True refuses: a hook that raises, returns
        None (forgot to return) or a non-bool must not open a room."""
        if exc is not None:
            if isinstance(exc, Exception):
                logger.error("rtcore: on_authorize hook %s raised; refusing", _name(hook), exc_info=exc)
            allow = False
        elif isinstance(value, bool):
            allow = value
        else:
            logger.error("rtcore: on_authorize hook %s returned %r (want True or False); refusing",
                         _name(hook), value)
            allow = False
        self._resolve_authorization(request_id, allow)

    def _resolve_authorization(self, request_id: int, allow: bool) -> None:
        engine = self._app._engine
        if engine is None:
            return  # stopped meanwhile: nothing is waiting any more
        rc = engine.authorize_resolve(request_id, allow)
        if rc not in (_native.RTC_OK, _native.RTC_ESTATE):
            logger.error("rtcore: rtc_authorize_resolve failed: %s", Error(rc))

    # ---- on_message -------------------------------------------------------

    def answered(self, conn_id: int, id_json: str) -> None:
        """App.send_error answered (conn, id): the oldest message with that id
        still in its handler gets nothing more (the ack rule)."""
        try:
            key = _id_key(conn_id, json.loads(id_json))
        except ValueError:
            return
        for flag in self._open.get(key, ()):
            if not flag[0]:
                flag[0] = True
                return

    def _message(self, conn_id: int, user_id: str, type_: str, text: str, rid: str) -> None:
        """One host-defined message. With an id (``rid``, its JSON text from
        the engine) the client gets exactly one answer (docs/hosts.md): an
        ack when the handler returns, one error when it raises, nothing more
        when the handler answered that id itself with send_error."""
        engine = self._app._engine
        handler = self._app._hooks.messages.get(type_)
        if handler is None:
            if engine is not None:
                engine.send_error(conn_id, "unknown_type", f'no handler for message type "{type_}"', rid)
            return
        message = Message(json.loads(text), rid)  # the engine only passes one JSON object
        conn = Connection(conn_id, user_id, self._app)
        flag: Optional[List[bool]] = None
        if rid:
            flag = [False]
            self._open.setdefault(_id_key(conn_id, message.id), []).append(flag)
        try:
            result = handler(conn, message)
        except BaseException as exc:
            self._finish_message(conn, type_, handler, message, flag, exc)
            return
        if inspect.isawaitable(result):
            self._spawn(self._await_message(conn, type_, handler, message, flag, result))
        else:
            self._finish_message(conn, type_, handler, message, flag, None)

    async def _await_message(self, conn: Connection, type_: str, handler: Handler, message: Message,
                             flag: Optional[List[bool]], result: Awaitable[Any]) -> None:
        try:
            await result
        except BaseException as exc:
            self._finish_message(conn, type_, handler, message, flag, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self._finish_message(conn, type_, handler, message, flag, None)

    def _finish_message(self, conn: Connection, type_: str, handler: Handler, message: Message,
                        flag: Optional[List[bool]], exc: Optional[BaseException]) -> None:
        """Answers the client exactly once when it sent an id: ack on
        success, one error otherwise (docs/protocol.md section 2), nothing
        when the handler already answered the id with send_error. Errors are
        answered even without an id, as the engine does for built-in types."""
        rid = message.id_json
        if flag is not None:
            key = _id_key(conn.id, message.id)
            flags = self._open.get(key, [])
            if flag in flags:
                flags.remove(flag)
            if not flags:
                self._open.pop(key, None)
            if flag[0]:
                return
        engine = self._app._engine
        if exc is None:
            if rid and engine is not None:
                engine.send_to_connection(conn.id, "", _native.PAYLOAD_RAW, f'{{"type":"ack","id":{rid}}}')
            return
        if isinstance(exc, MessageError):
            code, text = exc.code, exc.message
        else:
            if isinstance(exc, Exception):
                logger.error("rtcore: handler %s for %r raised", _name(handler), type_, exc_info=exc)
            code, text = "internal_error", f"the {type_} handler failed"
        if engine is not None:
            rc = engine.send_error(conn.id, code, text, rid)
            if rc == _native.RTC_EINVAL:  # a MessageError code that is not valid UTF-8
                engine.send_error(conn.id, "internal_error", f"the {type_} handler failed", rid)


def _name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
