"""App settings, validated in Python before the engine sees them, so a
mistake raises a ValueError naming the setting rather than RTC_EINVAL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Union

_LOG_LEVELS = {"error": 0, "warning": 1, "info": 2, "debug": 3}

# Built-in types are handled inside the engine and never reach Python.
BUILTIN_TYPES = frozenset({"join_room", "leave_room", "room_message", "direct_message"})


def _ms(name: str, seconds: float) -> int:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise ValueError(f"{name} must be a number of seconds")
    if not 0 < seconds <= 86400:
        raise ValueError(f"{name} must be in (0, 86400] seconds, got {seconds}")
    return max(1, int(math.ceil(seconds * 1000)))


def _positive_int(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class Config:
    redis_url: Optional[str] = None
    ping_interval: float = 30.0
    ping_timeout: float = 30.0
    max_message_size: int = 1 << 20
    max_send_queue_bytes: int = 4 << 20
    max_rooms_per_connection: int = 1024
    allow_post_without_join: bool = False
    node_id: Optional[str] = None
    log_level: Union[str, int] = "warning"
    shutdown_timeout: float = 1.0

    def __post_init__(self) -> None:
        _ms("ping_interval", self.ping_interval)
        _ms("ping_timeout", self.ping_timeout)
        _ms("shutdown_timeout", self.shutdown_timeout)
        _positive_int("max_message_size", self.max_message_size)
        _positive_int("max_send_queue_bytes", self.max_send_queue_bytes)
        if not isinstance(self.max_rooms_per_connection, int) or self.max_rooms_per_connection < 0:
            raise ValueError("max_rooms_per_connection must be an integer >= 0 (0: unlimited)")
        if self.redis_url is not None and not isinstance(self.redis_url, str):
            raise ValueError("redis_url must be a string or None")
        if self.node_id is not None and (not isinstance(self.node_id, str) or "\0" in self.node_id):
            raise ValueError("node_id must be a string without NUL")
        self.native_log_level()

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
        )
