#!/usr/bin/env bash
# Builds and installs the Python host (bindings/python) with pip, then runs
# its tests. Needs scripts/install-deps.sh to have run (compiler, CMake,
# Ninja and the engine's Debian libraries); everything else comes from PyPI.
# PYTHON picks the interpreter (default python3); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Debian's own python3 refuses pip installs outside a venv (PEP 668).
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1

started=$(date +%s)
echo "== python: build and test dependencies"
"$PY" -m pip install -q "pybind11>=2.10" "scikit-build-core>=0.8" \
  "pytest>=7" "websockets>=13" "fastapi>=0.100" "uvicorn>=0.23" "httpx>=0.24"

echo "== python: pip install ./bindings/python"
"$PY" -m pip install -q --force-reinstall --no-deps ./bindings/python

echo "== python: tests"
# -p no:asyncio: the tests run their own loops; a pytest-asyncio that
# happens to be installed must not change that.
(cd bindings/python && "$PY" -m pytest tests -q -p no:cacheprovider -p no:asyncio "$@")
echo "== python: passed in $(( $(date +%s) - started )) s"
