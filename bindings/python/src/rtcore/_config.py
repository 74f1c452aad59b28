"""App settings, derived from the C library's settings table and validated
in Python before the engine sees them, so a mistake raises a ValueError
naming the setting rather than RTC_EINVAL.

Every row of the table (``rtc_config_option``, read once through
``_native.config_options()``; the same rows make ``rtcore-server``'s flags)
is an App keyword and a Config field, so a new row needs no change here.
The rules, applied to the row's ``rtc_config`` field name:

* Durations are seconds in Python. A field ending in ``_ms`` (or with unit
  ``ms``/``seconds``: milliseconds in the field) drops the suffix and takes
  seconds, fractions allowed, rounded up to whole milliseconds
  (``ping_interval_ms`` -> ``ping_interval=25``). A field ending in ``_s``
  drops it and takes whole seconds (``history_ttl_s`` -> ``history_ttl``).
  A duration whose minimum is 0 means "off" at 0, and also takes None.
* A string field ending in ``_file`` drops it and takes a path (str or
  os.PathLike): ``tls_cert_file`` -> ``tls_cert``. Other strings: None (or
  "") leaves the engine's default.
* Sizes (unit ``bytes``) and counts are ints; booleans are bools; an enum
  is one of the names its help lists (``"none|jwt-hs256: ..."``).
* Ranges are the row's min/max (in the field's unit), defaults are
  ``rtc_config_init``'s, converted to these units.

Exceptions, written once below: ``_NAMES`` (``auth_mode`` is ``auth``),
``_ALIASES`` (``join_timeout_ms``: the raw field, in milliseconds, kept
from before the table), ``_SPECIAL`` (``log_level`` also takes names,
``allowed_origins`` a list), ``_CHECKS`` (extra checks of one row) and
``_APP_ARGS`` (``host``/``port`` are App and start() arguments). Settings
without a row stay hand-written: ``jwt_secret`` (bytes, never shown), the
rate limit pair, ``shutdown_timeout`` (the binding's own). The JWT secret
never appears in a repr, a log line or an error message."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native

_LOG_LEVELS = {"error": 0, "warning": 1, "info": 2, "debug": 3}
_U32 = 2**32 - 1
_U64 = 2**64 - 1

# Built-in types are handled inside the engine and never reach Python.
BUILTIN_TYPES = frozenset({"join_room", "leave_room", "room_message", "direct_message", "presence", "online"})

# The C defaults (rtc_config_init), by rtc_config field name.
C_DEFAULTS: Dict[str, Any] = _native.config_defaults()

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(name: str, value: int, maximum: int = _U32) -> int:
    """An integer >= 0 (0 usually meaning "unlimited" or "off")."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ValueError(f"{name} must be an integer 0..{maximum}, got {value!r}")
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


def _ms(name: str, seconds: float, maximum: float = 86400) -> int:
    """Seconds (> 0) as whole milliseconds, rounded up."""
    if not _is_number(seconds):
        raise ValueError(f"{name} must be a number of seconds, got {type(seconds).__name__}")
    if not 0 < seconds <= maximum:
        raise ValueError(f"{name} must be in (0, {maximum:g}] seconds, got {seconds}")
    # round() first: 1.001 * 1000 is 1000.9999999999999, not 1001.
    return max(1, int(math.ceil(round(seconds * 1000, 6))))


def _int(name: str, value: Any, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise ValueError(f"{name} must be an integer {minimum}..{maximum}, got {value!r}")
    return value


@dataclass(frozen=True)
class Option:
    """One row of the settings table as the App takes it: ``name`` is the
    Python keyword, ``field`` the rtc_config field; ``parse`` checks a value
    and returns its normal form, ``to_c`` turns that into the field's."""

    name: str
    field: str
    kind: str  # string, path, bool, enum, int, seconds, ms
    minimum: int
    maximum: int
    default: Any
    help: str
    flag: str
    choices: Tuple[str, ...] = ()

    def parse(self, value: Any) -> Any:
        special = _SPECIAL.get(self.field)
        if special is not None:
            value = special[0](self, value)
        elif self.kind == "string":
            if value is not None and (not isinstance(value, str) or "\0" in value):
                raise ValueError(f"{self.name} must be a string without NUL or None")
        elif self.kind == "path":
            value = _path(self.name, value)
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be a bool, got {type(value).__name__}")
        elif self.kind == "enum":
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {list(self.choices)}, got {value!r}")
        elif self.kind == "int":
            _int(self.name, value, self.minimum, self.maximum)
        elif self.kind == "seconds":  # whole seconds in a seconds field
            _int(self.name, value, self.minimum, self.maximum)
        else:  # "ms": seconds here, milliseconds in the field
            if self.minimum == 0 and (value is None or (_is_number(value) and value == 0)):
                value = None
            else:
                ms = _ms(self.name, value, self.maximum / 1000)
                if ms < self.minimum:
                    raise ValueError(f"{self.name} must be at least {self.minimum / 1000:g} seconds, got {value}")
        check = _CHECKS.get(self.field)
        if check is not None:
            check(self, value)
        return value

    def to_c(self, value: Any) -> Any:
        special = _SPECIAL.get(self.field)
        if special is not None:
            return special[1](value)
        if self.kind in ("string", "path"):
            return value or ""
        if self.kind == "enum":
            return self.choices.index(value)
        if self.kind == "ms":
            return 0 if value is None else _ms(self.name, value, self.maximum / 1000)
        return value


def _enum_choices(row: Mapping[str, Any]) -> Tuple[str, ...]:
    return tuple(row["help"].split(":", 1)[0].split("|"))


# Idiomatic names that are not the rule's (rtc_config field -> keyword).
_NAMES = {"auth_mode": "auth"}

# Names kept from before the table: keyword -> (option, to the option's
# Python value). Given in the raw field's unit; they exclude the option.
_ALIASES: Dict[str, Tuple[str, Callable[[str, Any], Any]]] = {
    "join_timeout_ms": ("join_timeout", lambda name, ms: _int(name, ms, OPTIONS["join_timeout"].minimum,
                                                               OPTIONS["join_timeout"].maximum) / 1000),
}


def _log_level(opt: Option, level: Any) -> Any:
    if isinstance(level, str) and level.lower() in _LOG_LEVELS:
        return level.lower()
    if isinstance(level, int) and not isinstance(level, bool) and opt.minimum <= level <= opt.maximum:
        return level
    raise ValueError(f"log_level must be one of {sorted(_LOG_LEVELS)} or {opt.minimum}..{opt.maximum}, got {level!r}")


def _native_log_level(level: Union[str, int]) -> int:
    return _LOG_LEVELS[level] if isinstance(level, str) else level


# Rows whose Python value is not the field's type: (parse, to_c).
_SPECIAL: Dict[str, Tuple[Callable[[Option, Any], Any], Callable[[Any], Any]]] = {
    "log_level": (_log_level, _native_log_level),
    "allowed_origins": (lambda opt, v: _origins(v), lambda v: ",".join(v)),
}


def _redis_prefix(opt: Option, value: Optional[str]) -> None:
    if value is not None and value == "":
        raise ValueError('redis_prefix must be a non-empty string or None (the engine\'s "rtcore:")')


def _internal_listen(opt: Option, value: Optional[str]) -> None:
    if value is not None:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f'internal_listen must be "HOST:PORT" (PORT 0..65535), got {value!r}')


# Extra checks of one row, beyond its type and range.
_CHECKS: Dict[str, Callable[[Option, Any], None]] = {
    "redis_prefix": _redis_prefix,
    "internal_listen": _internal_listen,
}

# Rows the App takes as its own arguments (and start()'s), not Config fields.
_APP_ARGS = frozenset({"host", "port"})


def _option(row: Mapping[str, Any]) -> Optional[Option]:
    c_name: str = row["name"]
    name = c_name
    kind = {"string": "string", "bool": "bool", "enum": "enum", "uint": "int"}.get(row["type"])
    if kind is None:
        return None  # a type this binding does not know (a newer library): not offered
    if kind == "string" and name.endswith("_file"):
        name, kind = name[: -len("_file")], "path"
    elif kind == "int" and (name.endswith("_ms") or row["unit"] in ("ms", "seconds")):
        name, kind = name[: -len("_ms")] if name.endswith("_ms") else name, "ms"
    elif kind == "int" and name.endswith("_s"):
        name, kind = name[: -len("_s")], "seconds"
    name = _NAMES.get(c_name, name)
    choices = _enum_choices(row) if kind == "enum" else ()
    default = row["default"]
    if kind == "ms":
        default = None if (row["min"] == 0 and default == 0) else default / 1000
    elif kind == "enum":
        default = choices[default]
    elif c_name == "log_level":
        default = {v: k for k, v in _LOG_LEVELS.items()}.get(default, default)
    return Option(name=name, field=c_name, kind=kind, minimum=row["min"], maximum=row["max"], default=default,
                  help=row["help"], flag=row["flag"], choices=choices)


#: Every row of the C settings table this binding offers, by keyword, in
#: the table's order.
OPTIONS: Dict[str, Option] = {o.name: o for o in map(_option, _native.config_options()) if o is not None}


class Defaults:
    """rtc_config_init's values in the units the App takes (one attribute a
    row, by keyword, plus the rate limit pair and the aliases)."""

    rate_limit_per_s: int = C_DEFAULTS["rate_limit_per_s"]
    rate_limit_burst: int = C_DEFAULTS["rate_limit_burst"]


for _o in OPTIONS.values():
    setattr(Defaults, _o.name, _o.default)
Defaults.join_timeout_ms = C_DEFAULTS["join_timeout_ms"]  # type: ignore[attr-defined]


def resolve_aliases(options: Dict[str, Any]) -> Dict[str, Any]:
    """``options`` with each alias replaced by its option's value."""
    out = dict(options)
    for alias, (target, convert) in _ALIASES.items():
        if alias in out:
            if target in out:
                raise ValueError(f"give {target} or {alias}, not both")
            out[target] = convert(alias, out.pop(alias))
    return out


class _ConfigBase:
    """Methods of Config; its fields come from the settings table."""

    def __post_init__(self) -> None:
        # Normalised forms (frozen: through object.__setattr__).
        object.__setattr__(self, "jwt_secret", _secret(getattr(self, "jwt_secret")))
        for opt in OPTIONS.values():
            if opt.name not in _APP_ARGS:
                object.__setattr__(self, opt.name, opt.parse(getattr(self, opt.name)))
        _ms("shutdown_timeout", getattr(self, "shutdown_timeout"))
        if getattr(self, "auth") == "jwt-hs256" and getattr(self, "jwt_secret") is None:
            raise ValueError('auth="jwt-hs256" needs jwt_secret')
        _count("rate_limit_per_s", getattr(self, "rate_limit_per_s"))
        _count("rate_limit_burst", getattr(self, "rate_limit_burst"))
        if getattr(self, "rate_limit_per_s") and getattr(self, "rate_limit_burst") == 0:
            raise ValueError("rate_limit_burst must be >= 1 when rate_limit_per_s is set")
        if (getattr(self, "tls_cert") is None) != (getattr(self, "tls_key") is None):
            raise ValueError("tls_cert and tls_key go together: give both (wss://) or neither (ws://)")

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "jwt_secret":
                parts.append(f"jwt_secret={'<hidden>' if value is not None else None}")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"Config({', '.join(parts)})"

    @property
    def tls(self) -> bool:
        return getattr(self, "tls_cert") is not None

    def native_log_level(self) -> int:
        return _native_log_level(getattr(self, "log_level"))

    def native_kwargs(self, host: str, port: int, hooks: int) -> Dict[str, Any]:
        """What _native.Engine.create takes: every row by rtc_config name."""
        if not isinstance(host, str) or not host or "\0" in host:
            raise ValueError("host must be a non-empty string")
        port_opt = OPTIONS["port"]
        _int("port", port, port_opt.minimum, port_opt.maximum)
        # Files are checked when the engine starts (they may appear after the
        # App is built); the engine itself would only say "cannot listen".
        for opt in OPTIONS.values():
            path = getattr(self, opt.name, None) if opt.kind == "path" else None
            if path is not None and not os.access(path, os.R_OK):
                raise ValueError(f"{opt.name}: cannot read {path!r}")
        out: Dict[str, Any] = {"host": host, "port": port}
        for opt in OPTIONS.values():
            if opt.name not in _APP_ARGS:
                out[opt.field] = opt.to_c(getattr(self, opt.name))
        out.update(hooks=hooks, jwt_secret=getattr(self, "jwt_secret") or b"",
                   rate_limit_per_s=getattr(self, "rate_limit_per_s"),
                   rate_limit_burst=getattr(self, "rate_limit_burst"))
        return out


# Each alias reads back too, in its own unit (e.g. config.join_timeout_ms).
for _alias, (_target, _) in _ALIASES.items():
    setattr(_ConfigBase, _alias, property(lambda self, t=_target: OPTIONS[t].to_c(getattr(self, t))))


def _config_fields() -> List[Tuple[str, Any, Any]]:
    out: List[Tuple[str, Any, Any]] = [
        (o.name, Any, field(default=o.default)) for o in OPTIONS.values() if o.name not in _APP_ARGS
    ]
    # Settings without a row (see the module's docstring).
    out += [
        ("shutdown_timeout", float, field(default=1.0)),
        ("jwt_secret", Optional[bytes], field(default=None, compare=False)),
        ("rate_limit_per_s", int, field(default=Defaults.rate_limit_per_s)),
        ("rate_limit_burst", int, field(default=Defaults.rate_limit_burst)),
    ]
    return out


#: The App's validated settings: one field a row of the settings table (by
#: keyword; see OPTIONS), plus the hand-written ones.
Config = dataclasses.make_dataclass("Config", _config_fields(), bases=(_ConfigBase,), frozen=True, repr=False,
                                    namespace={"__module__": __name__})


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
