#!/usr/bin/env bash
# The chat demo on loopback: a redis-server, two rtcore-server nodes sharing
# it (history on, HS256 dev tokens, the page's origin allowed) and the page's
# host (examples/node/demo_server.js). Prints the URL; Ctrl-C stops it all.
# Open the URL in two browsers (or one normal and one private window), log
# in as two names, and kill a node (its pid is printed) to watch the page
# move to the other one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/rtcore-server ] || { scripts/install-deps.sh && scripts/build.sh build; }
command -v node >/dev/null || { echo "start-demo: needs node (apt-get install nodejs)"; exit 1; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
dir=$(mktemp -d /tmp/rtcore-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

redis_port=${REDIS_PORT:-$(free_port)}
page_port=${DEMO_PORT:-$(free_port)}
n1=${NODE1_PORT:-$(free_port)}
n2=${NODE2_PORT:-$(free_port)}
head -c 32 /dev/urandom | base64 >"$dir/secret"

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

for i in 1 2; do
  port=$([ $i = 1 ] && echo "$n1" || echo "$n2")
  build/rtcore-server --host 127.0.0.1 --port "$port" --node-id "demo-$i" \
    --redis "redis://127.0.0.1:$redis_port" --node-ttl 5 \
    --history-size 1000 --history-ttl 3600 \
    --auth jwt-hs256 --jwt-secret-file "$dir/secret" \
    --allowed-origins "http://127.0.0.1:$page_port" >"$dir/node$i.log" 2>&1 &
  pids+=($!)
  echo "start-demo: node $i ws://127.0.0.1:$port (pid $!)"
done

RTCORE_NODES="ws://127.0.0.1:$n1,ws://127.0.0.1:$n2" DEMO_JWT_SECRET_FILE="$dir/secret" PORT="$page_port" \
  node examples/node/demo_server.js >"$dir/page.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$dir/page.log" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$dir/page.log" || { cat "$dir/page.log"; exit 1; }
echo "start-demo: open http://127.0.0.1:$page_port/  (node 2 first: http://127.0.0.1:$page_port/?node=2)"
echo "start-demo: Ctrl-C stops redis, both nodes and the page"
wait -n "${pids[@]}" || true
echo "start-demo: a process exited; stopping"
