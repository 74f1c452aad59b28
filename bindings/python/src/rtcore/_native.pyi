"""Stubs for the pybind11 layer over rtcore.h (use the rtcore package). The
engine runs in the C API's queued mode: ``fileno()`` is the queue's fd and
``drain()`` takes one batch (rtc_events_take) as the tuples below."""

from typing import Any, Dict, List, Tuple, Union

def version() -> str: ...
def version_number() -> int: ...
def strerror(code: int) -> str: ...
def err_name(code: int) -> str: ...
def config_defaults() -> Dict[str, Any]: ...
def config_options() -> List[Dict[str, Any]]: ...
def stats_fields() -> List[Tuple[str, str, str]]: ...

RTC_OK: int
RTC_EINVAL: int
RTC_ENOMEM: int
RTC_ESTATE: int
RTC_ELISTEN: int
RTC_ENOTSUP: int
RTC_ESTRUCT: int
RTC_EINTERNAL: int
RTC_ENOTFOUND: int
RTC_EQUEUE: int
RTC_ETLS: int
RTC_ETOOBIG: int
RTC_EUNAVAILABLE: int
AUTH_NONE: int
AUTH_JWT_HS256: int
PAYLOAD_CONTENT: int
PAYLOAD_RAW: int
PRESENCE_ONLINE: int
PRESENCE_OFFLINE: int
HOOK_CONNECT: int
HOOK_OPEN: int
HOOK_DISCONNECT: int
HOOK_MESSAGE: int
HOOK_PRESENCE: int
HOOK_AUTHORIZE: int
HOOK_LOG: int
EVENT_CONNECT: int
EVENT_OPEN: int
EVENT_DISCONNECT: int
EVENT_MESSAGE: int
EVENT_PRESENCE: int
EVENT_AUTHORIZE: int
EVENT_LOG: int
ACTION_JOIN_ROOM: int
ACTION_ROOM_MESSAGE: int
ACTION_DIRECT_MESSAGE: int
ACTION_PRESENCE: int
ACTION_ONLINE: int
EVENT_ANSWER: int
EVENT_HISTORY: int

# (EVENT_CONNECT, request_id, user_id, path, query, [(name, value)])
# (EVENT_OPEN, conn, user_id)
# (EVENT_DISCONNECT, conn, user_id, close_code)
# (EVENT_MESSAGE, conn, user_id, type, json, id_json)  id_json "" when none
# (EVENT_PRESENCE, user_id, status, timestamp)
# (EVENT_AUTHORIZE, conn, user_id, action, target, request_id)
# (EVENT_LOG, level, event, message, fields_json)
# (EVENT_ANSWER, token, status, [user], truncated, [online])  [online] empty for room_members
# (EVENT_HISTORY, token, status, epoch, top, [frame_json])
Event = Tuple[Union[int, str, List[Tuple[str, str]]], ...]

class Engine:
    def __init__(self) -> None: ...
    def create(
        self,
        *,
        host: str,
        port: int,
        max_message_size: int,
        max_send_queue_bytes: int,
        ping_interval_ms: int,
        ping_timeout_ms: int,
        max_rooms_per_connection: int,
        allow_post_without_join: bool,
        node_id: str,
        redis_url: str,
        log_level: int,
        hooks: int,
        redis_prefix: str,
        node_ttl_ms: int,
        redis_connect_timeout_ms: int,
        redis_buffer_bytes: int,
        auth_mode: int,
        jwt_secret: bytes,
        jwt_leeway_s: int,
        jwt_audience: str,
        jwt_issuer: str,
        allowed_origins: str,
        rate_limit_per_s: int,
        rate_limit_burst: int,
        max_connections: int,
        max_connections_per_user: int,
        handshake_timeout_ms: int,
        idle_timeout_ms: int,
        join_timeout_ms: int,
        presence_limit: int,
        expose_stats: bool,
        tls_cert_file: str,
        tls_key_file: str,
        internal_listen: str,
    ) -> int: ...
    def start(self) -> int: ...
    def stop(self, timeout_ms: int) -> int: ...
    def destroy(self) -> None: ...
    @property
    def created(self) -> bool: ...
    def port(self) -> int: ...
    def internal_port(self) -> int: ...
    def node_id(self) -> str: ...
    def stats(self) -> Dict[str, int]: ...
    def fileno(self) -> int: ...
    def drain(self) -> List[Event]: ...
    def resolve(self, request_id: int, accept: bool, status: int, user_id: str) -> int: ...
    def authorize_resolve(self, request_id: int, allow: bool) -> int: ...
    def send_to_user(self, user_id: str, sender: str, kind: int, payload: str) -> int: ...
    def send_to_connection(self, conn: int, sender: str, kind: int, payload: str) -> int: ...
    def broadcast(self, room: str, sender: str, kind: int, payload: str) -> int: ...
    def join(self, conn: int, room: str) -> int: ...
    def leave(self, conn: int, room: str) -> int: ...
    def send_error(self, conn: int, code: str, message: str, id_json: str) -> int: ...
    def disconnect(self, conn: int, close_code: int) -> int: ...
    def disconnect_user(self, user_id: str, close_code: int) -> int: ...
    def room_members(self, room: str, limit: int, token: int) -> int: ...
    def users_online(self, users: List[str], token: int) -> int: ...
    def history(self, room: str, limit: int, before: int, token: int) -> int: ...
