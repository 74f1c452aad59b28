"""App settings, validated in Python before the engine sees them, so a
mistake raises a ValueError naming the setting rather than RTC_EINVAL.

Every default is the C library's own (``rtc_config_init``, read once through
``_native.config_defaults()``), converted to Python units: durations in
seconds, sizes in bytes. The JWT secret never appears in a repr, a log line
or an error message."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional, Sequence, Tuple, Union

from . import _native

_LOG_LEVELS = {"error": 0, "warning": 1, "info": 2, "debug": 3}
_AUTH_MODES = {"none": _native.AUTH_NONE, "jwt-hs256": _native.AUTH_JWT_HS256}
_U32 = 2**32 - 1
_U64 = 2**64 - 1

# Built-in types are handled inside the engine and never reach Python.
BUILTIN_TYPES = frozenset({"join_room", "leave_room", "room_message", "direct_message", "presence", "online"})

# The C defaults (rtc_config_init).
C_DEFAULTS: Dict[str, Any] = _native.config_defaults()


def _seconds(ms_key: str) -> float:
    return C_DEFAULTS[ms_key] / 1000


class Defaults:
    """rtc_config_init's values in the units the App takes."""

    ping_interval: float = _seconds("ping_interval_ms")
    ping_timeout: float = _seconds("ping_timeout_ms")
    max_message_size: int = C_DEFAULTS["max_message_size"]
    max_send_queue_bytes: int = C_DEFAULTS["max_send_queue_bytes"]
    max_rooms_per_connection: int = C_DEFAULTS["max_rooms_per_connection"]
    node_ttl: float = _seconds("node_ttl_ms")
    redis_connect_timeout: float = _seconds("redis_connect_timeout_ms")
    redis_buffer_bytes: int = C_DEFAULTS["redis_buffer_bytes"]
    jwt_leeway: int = C_DEFAULTS["jwt_leeway_s"]
    rate_limit_per_s: int = C_DEFAULTS["rate_limit_per_s"]
    rate_limit_burst: int = C_DEFAULTS["rate_limit_burst"]
    max_connections: int = C_DEFAULTS["max_connections"]
    max_connections_per_user: int = C_DEFAULTS["max_connections_per_user"]
    handshake_timeout: float = _seconds("handshake_timeout_ms")
    idle_timeout: float = _seconds("idle_timeout_ms")
    join_timeout_ms: int = C_DEFAULTS["join_timeout_ms"]
    presence_limit: int = C_DEFAULTS["presence_limit"]
    expose_stats: bool = C_DEFAULTS["expose_stats"]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ms(name: str, seconds: float) -> int:
    if not _is_number(seconds):
        raise ValueError(f"{name} must be a number of seconds, got {type(seconds).__name__}")
    if not 0 < seconds <= 86400:
        raise ValueError(f"{name} must be in (0, 86400] seconds, got {seconds}")
    return max(1, int(math.ceil(seconds * 1000)))


def _ms_or_off(name: str, seconds: Optional[float]) -> int:
    """Seconds, or 0 / None for "off"."""
    if seconds is None or (_is_number(seconds) and seconds == 0):
        return 0
    return _ms(name, seconds)


def _positive_int(name: str, value: int, maximum: int = _U64) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= maximum:
        raise ValueError(f"{name} must be an integer 1..{maximum}, got {value!r}")
    return value


def _count(name: str, value: int, maximum: int = _U32) -> int:
    """An integer >= 0 (0 usually meaning "unlimited" or "off")."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ValueError(f"{name} must be an integer 0..{maximum}, got {value!r}")
    return value


def _text(name: str, value: Optional[str]) -> str:
    """An optional NUL-free string; None and "" both mean "not set"."""
    if value is None:
        return ""
    if not isinstance(value, str) or "\0" in value:
        raise ValueError(f"{name} must be a string without NUL or None")
    return value


def _path(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name} must be a file path (str or os.PathLike), got {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str) or not path or "\0" in path:
        raise ValueError(f"{name} must be a non-empty file path")
    return path


def _origins(value: Union[None, str, Sequence[str]]) -> Tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if isinstance(items, (bytes, bytearray)) or not isinstance(items, Sequence):
        raise ValueError("allowed_origins must be a list of origins (e.g. ['https://app.example.com']) or None")
    out = []
    for origin in items:
        if not isinstance(origin, str) or not origin.strip() or "," in origin or "\0" in origin:
            raise ValueError(
                f"allowed_origins entries must be non-empty origins without ',' (e.g. 'https://app.example.com'), "
                f"got {origin!r}")
        out.append(origin.strip())
    return tuple(out)


def _secret(value: Union[None, str, bytes, bytearray, memoryview]) -> Optional[bytes]:
    # Never put the value (or any part of it) in a message.
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    elif not isinstance(value, bytes):
        raise ValueError(f"jwt_secret must be str or bytes, got {type(value).__name__}")
    if not value:
        raise ValueError("jwt_secret must not be empty")
    return value


@dataclass(frozen=True, repr=False)
class Config:
    redis_url: Optional[str] = None
    ping_interval: float = Defaults.ping_interval
    ping_timeout: float = Defaults.ping_timeout
    max_message_size: int = Defaults.max_message_size
    max_send_queue_bytes: int = Defaults.max_send_queue_bytes
    max_rooms_per_connection: int = Defaults.max_rooms_per_connection
    allow_post_without_join: bool = False
    node_id: Optional[str] = None
    log_level: Union[str, int] = "warning"
    shutdown_timeout: float = 1.0
    # Redis backplane (ignored without redis_url).
    redis_prefix: Optional[str] = None  # None: the engine's "rtcore:"
    node_ttl: float = Defaults.node_ttl
    redis_connect_timeout: float = Defaults.redis_connect_timeout
    redis_buffer_bytes: int = Defaults.redis_buffer_bytes
    # A join_room id not confirmed by the backplane this long is answered
    # `unavailable` (the join stays). Milliseconds, like the C setting.
    join_timeout_ms: int = Defaults.join_timeout_ms
    # Most users one presence answer lists (beyond: truncated).
    presence_limit: int = Defaults.presence_limit
    # Protections (SECURITY.md).
    auth: str = "none"
    jwt_secret: Optional[bytes] = field(default=None, compare=False)
    jwt_leeway: int = Defaults.jwt_leeway
    jwt_audience: Optional[str] = None
    jwt_issuer: Optional[str] = None
    allowed_origins: Tuple[str, ...] = ()
    rate_limit_per_s: int = Defaults.rate_limit_per_s
    rate_limit_burst: int = Defaults.rate_limit_burst
    max_connections: int = Defaults.max_connections
    max_connections_per_user: int = Defaults.max_connections_per_user
    handshake_timeout: float = Defaults.handshake_timeout
    idle_timeout: Optional[float] = Defaults.idle_timeout or None
    expose_stats: bool = Defaults.expose_stats
    tls_cert: Optional[str] = None
    tls_key: Optional[str] = None
    # "HOST:PORT": a second, plain-HTTP listener for /metrics, /readyz,
    # /stats and /healthz (PORT 0: a free one; see App.internal_port).
    internal_listen: Optional[str] = None

    def __post_init__(self) -> None:
        # Normalised forms (frozen: through object.__setattr__).
        object.__setattr__(self, "jwt_secret", _secret(self.jwt_secret))
        object.__setattr__(self, "allowed_origins", _origins(self.allowed_origins))
        object.__setattr__(self, "tls_cert", _path("tls_cert", self.tls_cert))
        object.__setattr__(self, "tls_key", _path("tls_key", self.tls_key))
        _ms("ping_interval", self.ping_interval)
        _ms("ping_timeout", self.ping_timeout)
        _ms("shutdown_timeout", self.shutdown_timeout)
        _positive_int("max_message_size", self.max_message_size)
        _positive_int("max_send_queue_bytes", self.max_send_queue_bytes)
        if not isinstance(self.max_rooms_per_connection, int) or self.max_rooms_per_connection < 0:
            raise ValueError("max_rooms_per_connection must be an integer >= 0 (0: unlimited)")
        _count("max_rooms_per_connection", self.max_rooms_per_connection)
        if self.redis_url is not None and not isinstance(self.redis_url, str):
            raise ValueError("redis_url must be a string or None")
        if self.node_id is not None and (not isinstance(self.node_id, str) or "\0" in self.node_id):
            raise ValueError("node_id must be a string without NUL")
        self.native_log_level()
        if self.redis_prefix is not None and (_text("redis_prefix", self.redis_prefix) == ""):
            raise ValueError("redis_prefix must be a non-empty string or None (the engine's \"rtcore:\")")
        _ms("node_ttl", self.node_ttl)
        _ms("redis_connect_timeout", self.redis_connect_timeout)
        _positive_int("redis_buffer_bytes", self.redis_buffer_bytes)
        _positive_int("join_timeout_ms", self.join_timeout_ms, 86_400_000)
        _positive_int("presence_limit", self.presence_limit, 1_000_000)
        if self.auth not in _AUTH_MODES:
            raise ValueError(f"auth must be one of {sorted(_AUTH_MODES)}, got {self.auth!r}")
        if self.auth == "jwt-hs256" and self.jwt_secret is None:
            raise ValueError('auth="jwt-hs256" needs jwt_secret')
        _count("jwt_leeway", self.jwt_leeway)
        _text("jwt_audience", self.jwt_audience)
        _text("jwt_issuer", self.jwt_issuer)
        _count("rate_limit_per_s", self.rate_limit_per_s)
        _count("rate_limit_burst", self.rate_limit_burst)
        if self.rate_limit_per_s and self.rate_limit_burst == 0:
            raise ValueError("rate_limit_burst must be >= 1 when rate_limit_per_s is set")
        _count("max_connections", self.max_connections)
        _count("max_connections_per_user", self.max_connections_per_user)
        _ms("handshake_timeout", self.handshake_timeout)
        _ms_or_off("idle_timeout", self.idle_timeout)
        if not isinstance(self.expose_stats, bool):
            raise ValueError(f"expose_stats must be a bool, got {type(self.expose_stats).__name__}")
        if self.internal_listen is not None:
            host, sep, port = _text("internal_listen", self.internal_listen).rpartition(":")
            if not sep or not host or not port.isdigit() or int(port) > 65535:
                raise ValueError(f'internal_listen must be "HOST:PORT" (PORT 0..65535), got {self.internal_listen!r}')
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both (wss://) or neither (ws://)")

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "jwt_secret":
                parts.append(f"jwt_secret={'<hidden>' if value is not None else None}")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"Config({', '.join(parts)})"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def native_log_level(self) -> int:
        level = self.log_level
        if isinstance(level, str) and level.lower() in _LOG_LEVELS:
            return _LOG_LEVELS[level.lower()]
        if isinstance(level, int) and not isinstance(level, bool) and 0 <= level <= 3:
            return level
        raise ValueError(f"log_level must be one of {sorted(_LOG_LEVELS)} or 0..3, got {level!r}")

    def native_kwargs(self, host: str, port: int, hooks: int) -> Dict[str, Any]:
        if not isinstance(host, str) or not host or "\0" in host:
            raise ValueError("host must be a non-empty string")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0..65535, got {port!r}")
        # Files are checked when the engine starts (they may appear after the
        # App is built); the engine itself would only say "cannot listen".
        for name, path in (("tls_cert", self.tls_cert), ("tls_key", self.tls_key)):
            if path is not None and not os.access(path, os.R_OK):
                raise ValueError(f"{name}: cannot read {path!r}")
        return dict(
            host=host,
            port=port,
            max_message_size=self.max_message_size,
            max_send_queue_bytes=self.max_send_queue_bytes,
            ping_interval_ms=_ms("ping_interval", self.ping_interval),
            ping_timeout_ms=_ms("ping_timeout", self.ping_timeout),
            max_rooms_per_connection=self.max_rooms_per_connection,
            allow_post_without_join=bool(self.allow_post_without_join),
            node_id=self.node_id or "",
            redis_url=self.redis_url or "",
            log_level=self.native_log_level(),
            hooks=hooks,
            redis_prefix=self.redis_prefix or "",
            node_ttl_ms=_ms("node_ttl", self.node_ttl),
            redis_connect_timeout_ms=_ms("redis_connect_timeout", self.redis_connect_timeout),
            redis_buffer_bytes=self.redis_buffer_bytes,
            auth_mode=_AUTH_MODES[self.auth],
            jwt_secret=self.jwt_secret or b"",
            jwt_leeway_s=self.jwt_leeway,
            jwt_audience=self.jwt_audience or "",
            jwt_issuer=self.jwt_issuer or "",
            allowed_origins=",".join(self.allowed_origins),
            rate_limit_per_s=self.rate_limit_per_s,
            rate_limit_burst=self.rate_limit_burst,
            max_connections=self.max_connections,
            max_connections_per_user=self.max_connections_per_user,
            handshake_timeout_ms=_ms("handshake_timeout", self.handshake_timeout),
            idle_timeout_ms=_ms_or_off("idle_timeout", self.idle_timeout),
            join_timeout_ms=self.join_timeout_ms,
            presence_limit=self.presence_limit,
            expose_stats=self.expose_stats,
            tls_cert_file=self.tls_cert or "",
            tls_key_file=self.tls_key or "",
            internal_listen=self.internal_listen or "",
        )


def rate_limit_pair(rate_limit: Union[None, int, Tuple[int, int]], per_s: Optional[int],
                    burst: Optional[int]) -> Tuple[int, int]:
    """Resolves ``rate_limit`` (``(per_s, burst)``, ``N`` like the server's
    ``--rate-limit N`` i.e. a burst of 2N, or 0/False to disable) against the
    separate ``rate_limit_per_s`` / ``rate_limit_burst``; they exclude each
    other."""
    if rate_limit is not None and (per_s is not None or burst is not None):
        raise ValueError("give rate_limit or rate_limit_per_s/rate_limit_burst, not both")
    if rate_limit is None:
        p = Defaults.rate_limit_per_s if per_s is None else per_s
        if burst is not None:
            return p, burst
        # The default burst keeps the default ratio (2000 for 1000/s).
        return p, (Defaults.rate_limit_burst if per_s is None else 2 * _count("rate_limit_per_s", p))
    if rate_limit is False or (isinstance(rate_limit, int) and not isinstance(rate_limit, bool) and rate_limit == 0):
        return 0, 0
    if isinstance(rate_limit, int) and not isinstance(rate_limit, bool):
        n = _count("rate_limit", rate_limit, _U32 // 2)
        return n, 2 * n
    if isinstance(rate_limit, tuple) and len(rate_limit) == 2:
        return _count("rate_limit[0] (per second)", rate_limit[0]), _count("rate_limit[1] (burst)", rate_limit[1])
    raise ValueError(f"rate_limit must be (per_second, burst), an integer N (burst 2N), or 0/False to disable, "
                     f"got {rate_limit!r}")
