"""``python -m rtcore options``: every App setting, derived from the C
library's settings table (name, default, range, rtcore-server flag, help),
so the list is never out of date."""

from __future__ import annotations

import sys

from ._config import OPTIONS


def _range(opt) -> str:  # type: ignore[no-untyped-def]
    if opt.kind == "ms":
        return f"{opt.minimum / 1000:g}..{opt.maximum / 1000:g} s"
    if opt.kind == "seconds":
        return f"{opt.minimum}..{opt.maximum} s"
    if opt.kind == "int":
        return f"{opt.minimum}..{opt.maximum}"
    if opt.kind == "enum":
        return "|".join(opt.choices)
    return opt.kind


def main(argv: list) -> int:  # type: ignore[type-arg]
    if argv != ["options"]:
        print("usage: python -m rtcore options", file=sys.stderr)
        return 2
    for opt in OPTIONS.values():
        print(f"{opt.name}={opt.default!r}  [{_range(opt)}]  ({opt.flag})  {opt.help}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
