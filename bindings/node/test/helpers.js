'use strict';
// Shared by the tests: the package under test (RTCORE_PACKAGE, e.g. the
// tarball installed by scripts/test-node.sh, else this checkout), a small
// promise-based WebSocket client on `ws`, and child-process helpers.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const pkgDir = process.env.RTCORE_PACKAGE ? path.resolve(process.env.RTCORE_PACKAGE) : path.resolve(__dirname, '..');
const rtcore = require(pkgDir);
const examplesDir = path.resolve(__dirname, '..', '..', '..', 'examples', 'node');

// Children (examples, exit tests) find `rtcore`, `ws` and `express` through
// NODE_PATH: a temp dir linking rtcore to the package under test, then
// this package's own node_modules.
function childNodePath() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcore-np-'));
  fs.symlinkSync(pkgDir, path.join(dir, 'rtcore'));
  const parts = [dir, path.resolve(__dirname, '..', 'node_modules')];
  if (process.env.NODE_PATH) parts.push(process.env.NODE_PATH);
  return parts.join(path.delimiter);
}
let nodePath;
function childEnv(extra = {}) {
  nodePath ??= childNodePath();
  return { ...process.env, NODE_PATH: nodePath, ...extra };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

async function startEngine(options = {}, setup = () => {}) {
  const engine = new rtcore.Engine({ port: 0, host: '127.0.0.1', ...options });
  setup(engine);
  await engine.listen();
  return engine;
}

// A client that records every JSON message; next(pred) waits for one.
class Client {
  constructor(url, opts) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
    this.messages = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => !w(msg));
    });
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  next(pred = () => true, ms = 5000) {
    const seen = this.messages.find(pred);
    if (seen) {
      this.messages.splice(this.messages.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return withTimeout(new Promise((resolve) => {
      this.waiters.push((msg) => {
        if (!pred(msg)) return false;
        this.messages.splice(this.messages.indexOf(msg), 1);
        resolve(msg);
        return true;
      });
    }), ms, 'client message');
  }

  close() {
    this.ws.close();
    return this.closed;
  }
}

async function connect(engine, user, opts) {
  const port = typeof engine === 'number' ? engine : engine.port;
  const c = new Client(`ws://127.0.0.1:${port}/ws/${encodeURIComponent(user)}`, opts);
  await withTimeout(c.opened, 5000, `connect ${user}`);
  return c;
}

// Waits until fn() is truthy (polling), for state that settles async.
async function until(fn, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

// Runs a node script (file or code) as a child; resolves with its exit
// status and output. Lines of stdout are also offered to onLine.
function runNode(args, { env = {}, timeout = 15000, onLine } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      if (onLine) for (const line of lines.filter(Boolean)) onLine(line, child);
    });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child timed out after ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.on('error', reject);
  });
}

module.exports = {
  assert, rtcore, pkgDir, examplesDir, childEnv, sleep, withTimeout, startEngine, Client, connect, until, runNode, WebSocket,
};
