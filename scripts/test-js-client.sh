#!/usr/bin/env bash
# clients/js: the unit tests (node --test against real rtcore-server and
# redis-server processes on loopback) and the demo page in headless Chromium
# (Debian's /usr/bin/chromium driven by puppeteer-core; no browser
# download). Needs build/rtcore-server (or RTCORE_SERVER), node and the npm
# registry. Every server started listens on 127.0.0.1 and is stopped by the
# tests; each step is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
export RTCORE_SERVER=${RTCORE_SERVER:-$PWD/build/rtcore-server}
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export PUPPETEER_SKIP_DOWNLOAD=1
# The server has history: its tests must run, never skip.
export RTCORE_CLIENT_REQUIRE_HISTORY=${RTCORE_CLIENT_REQUIRE_HISTORY:-1}
started=$(date +%s)
(cd clients/js && npm ci --no-progress --loglevel=error)
(cd clients/js && node scripts/build.mjs --check)
(cd clients/js && timeout 300 node --test --test-concurrency=1 --test-reporter=spec test/*.test.mjs)
(cd clients/js && timeout 180 node --test --test-reporter=spec test/browser/*.test.mjs)
echo "== JS client tests passed in $(($(date +%s) - started)) s (screenshots in build/browser/)"
