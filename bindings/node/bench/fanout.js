#!/usr/bin/env node
// Room fan-out: the Node host vs the rtcore-server binary, same scenario.
// CLIENTS clients join one room; one of them sends MESSAGES room_messages
// of 32 bytes as fast as it can; we time until every client has every
// message (CLIENTS x MESSAGES deliveries) and read the server process's CPU
// time over the burst from /proc. Runs alternate between the two servers.
// The client (ws, one process) is usually the bottleneck for wall time on a
// small machine; server CPU per delivery is the comparison that matters.
//
//   node bench/fanout.js [--server ../../build/rtcore-server] [--clients 1000]
//                        [--messages 200] [--runs 5]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const SERVER = path.resolve(arg('server', path.join(__dirname, '..', '..', '..', 'build', 'rtcore-server')));
const CLIENTS = Number(arg('clients', 1000));
const MESSAGES = Number(arg('messages', 200));
const RUNS = Number(arg('runs', 5));
const TICK = 1 / 100; // seconds per clock tick (USER_HZ on Linux)

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK; // utime + stime
}

function startServer(kind) {
  const child = kind === 'node'
    ? spawn(process.execPath, [path.join(__dirname, 'node_server.js')], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(SERVER, ['--port', '0', '--host', '127.0.0.1', '--log-level', '0', '--rate-limit', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/"port":(\d+)/) || out.match(/ws:\/\/[^:]+:(\d+)/);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${kind} server exited ${code}`)));
  });
}

async function run(kind) {
  const { child, port } = await startServer(kind);
  const clients = [];
  let received = 0;
  let done;
  const all = new Promise((r) => { done = r; });
  const total = CLIENTS * MESSAGES;
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(CLIENTS, i + 100); j++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/u${j}`, { perMessageDeflate: false });
      batch.push(new Promise((resolve, reject) => {
        ws.once('open', () => {
          ws.send(JSON.stringify({ type: 'join_room', room: 'bench', id: 1 }));
          ws.once('message', () => { // the ack
            ws.on('message', () => { if (++received === total) done(); });
            resolve();
          });
        });
        ws.once('error', reject);
      }));
      clients.push(ws);
    }
    await Promise.all(batch);
  }
  const content = 'x'.repeat(32);
  const cpu0 = cpuSeconds(child.pid);
  const t0 = process.hrtime.bigint();
  const sender = clients[0];
  for (let i = 0; i < MESSAGES; i++) sender.send(`{"type":"room_message","room":"bench","content":"${content}"}`);
  await all;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(child.pid) - cpu0;
  for (const ws of clients) ws.terminate();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { wall, cpu };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  if (!fs.existsSync(SERVER)) {
    console.error(`fanout: no server binary at ${SERVER} (run scripts/build.sh build, or pass --server)`);
    process.exit(2);
  }
  const results = { node: [], server: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const kind of r % 2 ? ['server', 'node'] : ['node', 'server']) results[kind].push(await run(kind));
  }
  const deliveries = CLIENTS * MESSAGES;
  const summary = {};
  for (const kind of ['node', 'server']) {
    const wall = median(results[kind].map((x) => x.wall));
    const cpu = median(results[kind].map((x) => x.cpu));
    summary[kind] = { runs_wall_s: results[kind].map((x) => +x.wall.toFixed(3)), wall_s: +wall.toFixed(3), deliveries_per_s: Math.round(deliveries / wall), server_cpu_s: +cpu.toFixed(3),
      server_cpu_us_per_delivery: +((cpu * 1e6) / deliveries).toFixed(3) };
  }
  console.log(JSON.stringify({ clients: CLIENTS, messages: MESSAGES, runs: RUNS, deliveries, ...summary,
    wall_ratio_node_over_server: +(summary.node.wall_s / summary.server.wall_s).toFixed(3),
    cpu_ratio_node_over_server: +(summary.node.server_cpu_s / summary.server.server_cpu_s).toFixed(3) }, null, 2));
})();
