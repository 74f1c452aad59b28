"""PEP 517 build backend of the rtcore Python package: scikit-build-core,
plus the two things it cannot do on its own here.

* The engine's sources live outside this directory (the repository root,
  ../..). An sdist must not point there, so build_sdist copies them into
  engine/ first (the top-level CMakeLists.txt, cmake/ and every directory
  it adds, minus tests); CMakeLists.txt builds engine/ when it exists, the
  repository root otherwise. LICENSE and NOTICE are copied the same way, for
  the sdist's and the wheel's license files. Copies made for a build are
  removed after it.
The version is the engine's, project(rtcore VERSION x.y.z) in the top-level
CMakeLists.txt, read by scikit-build-core's regex provider (pyproject.toml);
`python _build/rtcore_build.py --version` prints what version() reads from
the same line, for scripts/test-packaging.sh.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # bindings/python (or the sdist root)
REPO = HERE.parent.parent
ENGINE = HERE / "engine"
# What an engine build needs: see the top-level CMakeLists.txt.
ENGINE_TOP_FILES = ("CMakeLists.txt", "LICENSE", "NOTICE")
LICENSE_FILES = ("LICENSE", "NOTICE")
SKIP = re.compile(r"(^|/)(node_modules|build[^/]*|__pycache__)(/|$)")


def _engine_root() -> Path:
    if (ENGINE / "CMakeLists.txt").exists():
        return ENGINE
    if (REPO / "capi" / "include" / "rtcore.h").exists():
        return REPO
    raise RuntimeError(f"rtcore: no engine sources in {ENGINE} or {REPO}")


def version() -> str:
    text = (_engine_root() / "CMakeLists.txt").read_text(encoding="utf-8")
    m = re.search(r"^project\(rtcore VERSION ([0-9][0-9.]*)", text, re.M)
    if not m:
        raise RuntimeError("rtcore: no project(rtcore VERSION ...) in the engine's CMakeLists.txt")
    return m.group(1)


def _engine_dirs(top: str) -> list[str]:
    dirs = {m.split("/")[0] for m in re.findall(r"add_subdirectory\(\s*([\w./-]+)", top)}
    dirs |= set(re.findall(r"include\(\s*([\w-]+)/", top))
    dirs.discard("tests")
    return sorted(dirs)


def _copytree(src: Path, dst: Path) -> None:
    def ignore(d: str, names: list[str]) -> list[str]:
        rel = os.path.relpath(d, REPO)
        return [n for n in names if SKIP.search(f"{rel}/{n}") or n.endswith((".pyc", ".node", ".so"))]

    shutil.copytree(src, dst, ignore=ignore)


@contextlib.contextmanager
def _materialized(with_engine: bool):
    """Copies what lives outside HERE into it for one build (a checkout
    only; an unpacked sdist already has it), and removes the copies after."""
    made: list[Path] = []
    try:
        if (REPO / "capi" / "include" / "rtcore.h").exists():
            for name in LICENSE_FILES:
                if not (HERE / name).exists():
                    shutil.copyfile(REPO / name, HERE / name)
                    made.append(HERE / name)
            if with_engine and not ENGINE.exists():
                made.append(ENGINE)
                ENGINE.mkdir()
                top = (REPO / "CMakeLists.txt").read_text(encoding="utf-8")
                for name in ENGINE_TOP_FILES:
                    shutil.copyfile(REPO / name, ENGINE / name)
                for d in _engine_dirs(top):
                    _copytree(REPO / d, ENGINE / d)
        yield
    finally:
        for p in reversed(made):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["--version"]:
        sys.exit("usage: rtcore_build.py --version")
    print(version())
    sys.exit(0)

from scikit_build_core import build as _skbuild  # noqa: E402


def _wrap(name: str, with_engine: bool = False):
    hook = getattr(_skbuild, name, None)
    if hook is None:
        return None

    def wrapped(*args, **kwargs):
        with _materialized(with_engine):
            return hook(*args, **kwargs)

    wrapped.__name__ = name
    return wrapped


build_sdist = _wrap("build_sdist", with_engine=True)
get_requires_for_build_sdist = _wrap("get_requires_for_build_sdist")
build_wheel = _wrap("build_wheel")
get_requires_for_build_wheel = _wrap("get_requires_for_build_wheel")
prepare_metadata_for_build_wheel = _wrap("prepare_metadata_for_build_wheel")
build_editable = _wrap("build_editable")
get_requires_for_build_editable = _wrap("get_requires_for_build_editable")
prepare_metadata_for_build_editable = _wrap("prepare_metadata_for_build_editable")
for _n in [n for n, v in list(globals().items()) if n.startswith(("build_", "get_requires", "prepare_")) and v is None]:
    del globals()[_n]
