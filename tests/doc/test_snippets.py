"""Doc tests: every code snippet in every README of the repository is
extracted and run, so none can rot.

Each fenced block with a language must be preceded, on the line right
before its fence, by a directive saying how it is run:

  <!-- doctest: server port=8000 -->   a program that serves: started, then a
                                       WebSocket client joins a room on that
                                       port (with an id, and must get the ack;
                                       query=K=V adds a query string to its
                                       URL), then SIGINT; it must exit (0 or
                                       by it)
  <!-- doctest: client port=8080 -->   a client: rtcore-server is started on
                                       each port given (comma-separated), then
                                       the snippet must run to exit 0
  <!-- doctest: script -->             must run to exit 0 (env=NAME=VALUE sets
                                       what it reads from its environment)
  <!-- doctest: shell-server port=8081,8082 -->  shell lines that start
                                       servers in the background: run in their
                                       own process group, each port must then
                                       accept a WebSocket join; then killed
  <!-- doctest: shell-check -->        commands too heavy to run inside the
                                       test suite (the suite itself, installs):
                                       `bash -n` and every repository path they
                                       name must exist
  <!-- doctest: module-check -->       an HTML page fragment: its module script
                                       must parse (`node --check`) and what it
                                       imports must exist (the demo page that
                                       runs it for real is tested in Chromium)

Ports 3000, 6379, 8000, 8080, 8081 and 8082 written in a snippet are
replaced by free ports before it runs (the same one everywhere in that
snippet), so the documentation keeps readable numbers. Snippets run from
the repository root with RTCORE_SERVER / RTCORE_BUILD / RTCORE_PYTHON /
RTCORE_NODE_PATH as in tests/parity; a language whose host is missing is
skipped unless RTCORE_DOCTEST_REQUIRE_ALL=1 (CI).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RTCORE_BUILD", ROOT / "build"))
SERVER = Path(os.environ.get("RTCORE_SERVER", BUILD / "rtcore-server"))
REQUIRE_ALL = os.environ.get("RTCORE_DOCTEST_REQUIRE_ALL") == "1"
PORTS = ("3000", "6379", "8000", "8080", "8081", "8082")
DIRECTIVE = re.compile(r"^<!--\s*doctest:\s*([a-z-]+)((?:\s+[a-z_]+=\S+)*)\s*-->\s*$")
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)\s*$")
CODE_LANGS = {"python", "js", "javascript", "c", "cpp", "sh", "bash", "html", "ts"}


@dataclass
class Snippet:
    file: Path
    line: int
    lang: str
    mode: Optional[str]
    args: Dict[str, str]
    code: str

    @property
    def name(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def readmes() -> List[Path]:
    files = subprocess.run(["git", "ls-files", "*README*.md", "README.md"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    return sorted({ROOT / f for f in files})


def extract(path: Path) -> List[Snippet]:
    out: List[Snippet] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if lang in CODE_LANGS:
            d = DIRECTIVE.match(lines[start - 1]) if start else None
            args = dict(a.split("=", 1) for a in d.group(2).split()) if d else {}
            out.append(Snippet(path, start + 1, lang, d.group(1) if d else None, args,
                               "\n".join(lines[start + 1:j]) + "\n"))
        i = j + 1
    return out


SNIPPETS = [s for f in readmes() for s in extract(f)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unavailable(why: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(why)
    pytest.skip(why)


def substitute(code: str) -> "tuple[str, Dict[str, int]]":
    mapping: Dict[str, int] = {}

    def repl(m: "re.Match[str]") -> str:
        mapping.setdefault(m.group(0), free_port())
        return str(mapping[m.group(0)])

    return re.sub(r"(?<![\d.])(" + "|".join(PORTS) + r")(?![\d.])", repl, code), mapping


def node_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["NODE_PATH"] = os.environ.get("RTCORE_NODE_PATH", "")
    return env


def command(s: Snippet, code: str, tmp: Path) -> "tuple[List[str], Dict[str, str], Path]":
    """How to run the snippet's code: argv, env, working directory."""
    env = dict(os.environ)
    if s.lang == "python":
        py = os.environ.get("RTCORE_PYTHON", sys.executable)
        if "import rtcore" in code and subprocess.run([py, "-c", "import rtcore"], capture_output=True).returncode:
            unavailable(f"{py} cannot import rtcore")
        f = tmp / "snippet.py"
        f.write_text(code)
        return [py, "-u", str(f)], env, ROOT
    if s.lang in ("js", "javascript"):
        node = shutil.which("node") or unavailable("no node")
        env = node_env()
        if re.search(r"^import ", code, re.M):
            # An ES module: NODE_PATH does not apply; run it inside the package
            # it imports (a package may import itself by name).
            home = ROOT / "clients/js" if "rtcore-client" in code else ROOT / "bindings/node"
            f = home / f".doctest-{os.getpid()}-{s.line}.mjs"
            f.write_text(code)
            return [str(node), str(f)], env, ROOT
        if "require('rtcore')" in code and subprocess.run([str(node), "-e", "require('rtcore')"], env=env,
                                                          capture_output=True).returncode:
            unavailable("node cannot require('rtcore') (set RTCORE_NODE_PATH)")
        f = tmp / "snippet.js"
        f.write_text(code)
        return [str(node), str(f)], env, ROOT
    if s.lang in ("c", "cpp"):
        lib = BUILD / "librtcore.so"
        if not lib.exists():
            unavailable(f"{lib} is not built")
        src = tmp / f"snippet.{s.lang}"
        src.write_text(code)
        exe = tmp / "snippet"
        cc = ["cc", "-std=c99"] if s.lang == "c" else ["c++", "-std=c++17"]
        subprocess.run([*cc, "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-I", str(ROOT / "capi/include"),
                        str(src), "-L", str(BUILD), "-lrtcore", "-pthread", f"-Wl,-rpath,{BUILD}", "-o", str(exe)],
                       check=True)
        return [str(exe)], env, ROOT
    return ["bash", "-c", code], node_env(), ROOT


async def join_check(port: int, query: str = "", user: str = "doctest") -> None:
    """A real client joins a room with an id and must get its ack."""
    deadline = time.monotonic() + 20
    while True:
        try:
            async with connect(f"ws://127.0.0.1:{port}/ws/{user}" + (f"?{query}" if query else "")) as ws:
                await ws.send(json.dumps({"type": "join_room", "room": "doctest", "id": "doctest"}))
                while True:  # hosts may push frames of their own first
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if frame.get("id") == "doctest":
                        assert frame["type"] == "ack", frame
                        return
        except (OSError, asyncio.TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def stop(proc: subprocess.Popen, group: bool = False) -> int:
    if group:  # the shell may be gone; what it started in the background is not
        for sig in (signal.SIGINT, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            time.sleep(1)
        return proc.wait(10)
    if proc.poll() is None:
        (os.killpg(proc.pid, signal.SIGINT) if group else proc.send_signal(signal.SIGINT))
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            (os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill())
            proc.wait()
            raise AssertionError("did not stop on SIGINT within 10 s")
    return proc.returncode


def output(proc: subprocess.Popen) -> str:
    try:
        out, _ = proc.communicate(timeout=5)
        return out or ""
    except (subprocess.TimeoutExpired, ValueError):
        return ""


def test_every_snippet_says_how_it_runs() -> None:
    missing = [s.name for s in SNIPPETS if s.mode is None]
    assert not missing, f"snippets without a <!-- doctest: ... --> line right before the fence: {missing}"


@pytest.mark.parametrize("s", [s for s in SNIPPETS if s.mode], ids=lambda s: s.name)
def test_snippet(s: Snippet, tmp_path: Path) -> None:
    code, ports = substitute(s.code)
    mode = s.mode
    wanted = [ports.get(p) for p in s.args.get("port", "").split(",") if p]
    assert None not in wanted, f"{s.name}: port= names a port the snippet does not use"
    if mode == "shell-check":
        subprocess.run(["bash", "-n", "-c", code], check=True)
        commands = re.sub(r"(^|\s)#.*", "", code)  # comments may name what a command makes
        for path in re.findall(r"(?:\./)?((?:scripts|build|bindings|tests|examples|clients|capi)/[\w./-]+)", commands):
            if path.startswith("build/"):
                continue  # made by the build the command runs
            assert (ROOT / path).exists() or any(ROOT.glob(path)), f"{s.name}: {path} does not exist"
        return
    if mode == "module-check":
        body = re.search(r"<script type=\"module\">(.*?)</script>", code, re.S)
        assert body, f"{s.name}: no module script"
        f = tmp_path / "page.mjs"
        f.write_text(body.group(1))
        subprocess.run([shutil.which("node") or "node", "--check", str(f)], check=True)
        for spec in re.findall(r"from '([^']+)'", body.group(1)):
            if spec == "/rtcore-client.js":  # what the demo server serves
                assert (ROOT / "clients/js/src/index.js").exists()
        return
    argv, env, cwd = command(s, code, tmp_path)
    if "env" in s.args:  # env=NAME=VALUE: what the snippet reads from its environment
        name, _, value = s.args["env"].partition("=")
        env[name] = value
    if mode == "script":
        r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{s.name}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        return
    if mode == "client":
        servers = [subprocess.Popen([str(SERVER), "--host", "127.0.0.1", "--port", str(p)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE) for p in wanted]
        try:
            for p in wanted:
                asyncio.run(join_check(p))
            r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"{s.name}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        finally:
            for srv in servers:
                stop(srv)
        return
    if mode in ("server", "shell-server"):
        group = mode == "shell-server"
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=group)
        try:
            for p in wanted:
                try:
                    asyncio.run(join_check(p, s.args.get("query", "")))
                except Exception as exc:
                    raise AssertionError(f"{s.name}: port {p}: {exc!r}\n{output(proc) if proc.poll() is not None else ''}")
            assert group or proc.poll() is None, f"{s.name}: exited early\n{output(proc)}"
        finally:
            code_ = stop(proc, group)
        if not group:
            assert code_ in (0, -signal.SIGINT), f"{s.name}: exit {code_} on SIGINT\n{output(proc)}"
        return
    pytest.fail(f"{s.name}: unknown doctest mode {mode!r}")


@pytest.fixture(autouse=True)
def _no_leftover_modules() -> "object":
    yield
    for home in (ROOT / "clients/js", ROOT / "bindings/node"):
        for f in home.glob(f".doctest-{os.getpid()}-*.mjs"):
            f.unlink()
