// Real servers for the client tests: rtcore-server and redis-server on free
// loopback ports, stopped after each test (t.after) and at exit, killed
// (SIGKILL) and restarted on the same port when a test asks for it.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer, connect as netConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SERVER = process.env.RTCORE_SERVER || join(repo, 'build/rtcore-server');
export const REDIS = process.env.REDIS_SERVER || '/usr/bin/redis-server';
export { WebSocket };

const live = new Set();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export function serverAvailable() {
  return existsSync(SERVER);
}

let helpText = null;
export function serverHelp() {
  if (helpText == null) helpText = execFileSync(SERVER, ['--help'], { encoding: 'utf8' });
  return helpText;
}

/** Why history tests cannot run here, or null. */
export function historySkipReason() {
  if (!serverAvailable()) return `no rtcore-server at ${SERVER} (scripts/build.sh build)`;
  if (!serverHelp().includes('--history-size')) {
    return 'this rtcore-server has no --history-size (docs/protocol.md section 8 not built): history tests skipped';
  }
  return null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(fn, { timeout = 10000, interval = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/** Resolves with the first emit of event on emitter (a client or room). */
export function once(emitter, event, timeout = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeout} ms`)), timeout);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args.length > 1 ? args : args[0]);
    });
  });
}

/** One rtcore-server process. kill() is SIGKILL; start() again reuses the port. */
export class Server {
  constructor(args = [], port = 0) {
    this.args = args;
    this.port = port;
    this.proc = null;
    this.stderr = '';
  }
  static async start(t, args = []) {
    const s = new Server(args, await freePort());
    await s.start();
    if (t) t.after(() => s.stop());
    return s;
  }
  get url() {
    return `ws://127.0.0.1:${this.port}`;
  }
  start() {
    return new Promise((resolve, reject) => {
      const proc = spawn(SERVER, ['--host', '127.0.0.1', '--port', String(this.port), ...this.args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.proc = proc;
      live.add(proc);
      let out = '';
      const timer = setTimeout(() => reject(new Error(`rtcore-server not ready in 10 s: ${out} ${this.stderr}`)), 10000);
      proc.stderr.on('data', (d) => {
        this.stderr = (this.stderr + d).slice(-4000);
      });
      proc.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n') && timer) {
          clearTimeout(timer);
          resolve(this);
        }
      });
      proc.once('exit', (code) => {
        live.delete(proc);
        clearTimeout(timer);
        reject(new Error(`rtcore-server exited ${code} before ready: ${this.stderr}`));
      });
    });
  }
  async kill() {
    const p = this.proc;
    if (!p || p.exitCode != null || p.signalCode != null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }
  async stop() {
    const p = this.proc;
    if (!p || p.exitCode != null || p.signalCode != null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}

export class Redis {
  static async start(t) {
    const r = new Redis();
    r.port = await freePort();
    r.dir = mkdtempSync(join(tmpdir(), 'rtcore-client-redis-'));
    r.proc = spawn(REDIS, ['--port', String(r.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', r.dir], {
      stdio: 'ignore',
    });
    live.add(r.proc);
    r.proc.once('exit', () => live.delete(r.proc));
    await until(() => canConnect(r.port), { what: 'redis-server' });
    if (t) t.after(() => r.stop());
    return r;
  }
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async stop() {
    if (this.proc.exitCode == null && this.proc.signalCode == null) {
      const gone = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** An HS256 JWT for --auth jwt-hs256. */
export function jwt(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export function secretFile(t, secret) {
  const dir = mkdtempSync(join(tmpdir(), 'rtcore-client-secret-'));
  const path = join(dir, 'secret');
  writeFileSync(path, secret);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path;
}

/** A raw ws client, for the other side of a conversation. */
export async function rawClient(url) {
  const ws = new WebSocket(url);
  const frames = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  let n = 0;
  return {
    ws,
    frames,
    send: (f) => ws.send(JSON.stringify(f)),
    async request(f) {
      const id = `raw-${++n}`;
      ws.send(JSON.stringify({ ...f, id }));
      return until(() => frames.find((x) => x.id === id), { what: `answer to ${f.type}` });
    },
    close: () => ws.close(),
  };
}
