'use strict';
// The Engine facade: an EventEmitter over the native addon. Built-in message
// types never reach this file; the engine thread hands JS only host events,
// in batches (see src/host.cpp).
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const native = require('./native');
const { Connection } = require('./connection');
const { RtcoreError, Reject, MessageError, invalid } = require('./errors');
const check = require('./validate');
const upgrade = require('./attach');

const EV_CONNECT = 0;
const EV_OPEN = 1;
const EV_DISCONNECT = 2;
const EV_MESSAGE = 3;
const EV_PRESENCE = 4;
const EV_AUTHORIZE = 5;
const EV_LOG = 6;
// RTC_LOG_* -> the level a 'log' listener receives.
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];
const EV_ANSWER = 7;
const EV_HISTORY = 8;
// RTC_ACTION_* -> the action name an onAuthorize hook receives.
const ACTIONS = { 1: 'join_room', 2: 'room_message', 3: 'direct_message', 4: 'presence', 5: 'online' };
const WANT_OPEN = 1;
const WANT_DISCONNECT = 2;
const WANT_PRESENCE = 4;
const WANT_LOG = 8;
const RTC_EINVAL = -1;
// RTC_PAYLOAD_*: the object is the frame (RAW) or the envelope's content.
const PAYLOAD_CONTENT = 0;
const PAYLOAD_RAW = 1;
const RTC_ENOTSUP = -5;

function engineError(rc, what) {
  return new RtcoreError(native.errName(rc), `rtcore: ${what} failed: ${native.strerror(rc)}`);
}

// A request id given to sendError as JSON text (null for none).
function idJson(id) {
  if (typeof id === 'string') return JSON.stringify(id);
  if (Number.isSafeInteger(id)) return String(id);
  return null;
}

// The key of a request id in flight (the ack rule): 1 and "1" differ.
function idKey(connIdText, id) {
  return `${connIdText}\u0000${typeof id}\u0000${id}`;
}

// Frame sends given { from }: the old envelope meaning, warned about once.
let warnedFrom = false;
function deprecatedFrom(what, envelope) {
  if (warnedFrom) return;
  warnedFrom = true;
  process.emitWarning(`rtcore: ${what}(..., { from }) is deprecated: ${what}() sends the object as the frame; ` +
    `use ${envelope}() for the message envelope`, { type: 'DeprecationWarning', code: 'RTCORE_DEP_SEND_FROM' });
}

function isMessageError(err) {
  return err instanceof MessageError || (err != null && err.name === 'MessageError' && typeof err.code === 'string' && err.code !== '');
}

function connId(conn) {
  const id = conn instanceof Connection ? conn.id : conn;
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,19}$/.test(id)) {
    throw invalid('conn must be a Connection or a connection id string');
  }
  return id;
}

function isReject(err) {
  return err instanceof Reject || (err != null && err.name === 'Reject' && Number.isInteger(err.status));
}

// Engines still listening when the process exits are stopped synchronously
// (clients get a close frame, the engine thread is joined before exit).
const live = new Set();
let exitHookInstalled = false;
function trackLive(engine, nativeEngine) {
  live.add(nativeEngine);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const n of live) n.closeSync(200);
    live.clear();
  });
}

class Engine extends EventEmitter {
  #native;
  #options;
  #connectHook = null;
  #authorizeHook = null;
  #state = 'new'; // new -> starting -> listening -> closing -> closed
  #starting = null;
  #closing = null;
  // Presence queries and history reads waiting for their answer:
  // token -> { resolve, reject, what }.
  #queries = new Map();
  #nextQuery = 0;
  // Client messages with an id whose listeners have not finished:
  // idKey(conn, id) -> [{ answered }], one entry a message (the ack rule).
  #open = new Map();

  constructor(options) {
    super();
    this.#options = check.engineOptions(options);
    this.#native = new native.Native((batch) => this.#dispatch(batch));
    // A listening engine keeps the process alive, as a listening net.Server
    // does, until close() or unref(). keepAlive is a deprecated alias:
    // false starts unref'd, true is the default.
    if (this.#options.keepAlive === false) this.#native.unref();
    // Tell the engine thread which events have listeners, so events nobody
    // listens to never wake the JS thread.
    this.on('newListener', (name) => this.#syncWanted(name));
    this.on('removeListener', () => this.#syncWanted());
  }

  // hook(req) -> userId string | true/undefined (the path's user) | false
  // (403), sync or async; throw new Reject(status) to refuse.
  onConnect(hook) {
    if (typeof hook !== 'function') throw invalid('onConnect hook must be a function');
    if (this.#state !== 'new') throw new RtcoreError('RTC_ESTATE', 'onConnect must be set before listen()');
    this.#connectHook = hook;
    return this;
  }

  // hook(conn, action, target) -> boolean, sync or async: may conn do
  // action ('join_room' | 'room_message' | 'direct_message') on target (the
  // room, or the recipient's user id)? Anything but true refuses with error
  // forbidden; a throw or rejection is reported and refuses too.
  onAuthorize(hook) {
    if (typeof hook !== 'function') throw invalid('onAuthorize hook must be a function');
    if (this.#state !== 'new') throw new RtcoreError('RTC_ESTATE', 'onAuthorize must be set before listen()');
    this.#authorizeHook = hook;
    return this;
  }

  async listen() {
    if (this.#state !== 'new') throw new RtcoreError('RTC_ESTATE', 'listen() may be called once per Engine');
    // TLS files are checked here (they may appear after the Engine is
    // built); the engine itself would only say it cannot listen.
    for (const key of ['tlsCertFile', 'tlsKeyFile']) {
      const file = this.#options[key];
      if (file === undefined) continue;
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch (err) {
        throw invalid(`option ${key}: cannot read ${file} (${err.code})`);
      }
    }
    this.#state = 'starting';
    this.#syncWanted();
    this.#starting = (async () => {
      const p = this.#native.listen(check.nativeConfig(this.#options), this.#connectHook !== null, this.#authorizeHook !== null);
      const rc = typeof p === 'number' ? p : await p;
      if (rc !== 0) {
        this.#state = 'closed';
        const err = engineError(rc, 'listen');
        if (rc === -5 && this.#options.redisUrl) {
          err.message = `rtcore: redisUrl ${check.redactUrl(this.#options.redisUrl)} needs the Redis backplane, which this build of the engine does not have (RTC_ENOTSUP)`;
        } else if (this.#options.tlsCertFile !== undefined) {
          err.message += ' (with TLS: is tlsCertFile a PEM certificate and tlsKeyFile its private key?)';
        }
        throw err;
      }
      this.#state = 'listening';
      trackLive(this, this.#native);
    })();
    await this.#starting;
    return this.address();
  }

  async close(options = {}) {
    const timeout = options.timeout ?? this.#options.shutdownTimeout ?? 1000;
    if (!Number.isInteger(timeout) || timeout < 1) throw invalid('close timeout must be a positive integer (ms)');
    if (this.#state === 'starting') await this.#starting.catch(() => {});
    if (this.#state === 'closing') return this.#closing;
    if (this.#state !== 'listening') {
      this.#state = 'closed';
      return undefined;
    }
    this.#state = 'closing';
    this.#closing = (async () => {
      const r = this.#native.close(timeout);
      if (typeof r !== 'number') await r;
      live.delete(this.#native);
      this.#state = 'closed';
      // The engine answered every query it took; an answer it could no
      // longer hand to JS (the host stops accepting events first) fails here.
      for (const q of this.#queries.values()) q.reject(engineError(-3, q.what));
      this.#queries.clear();
      this.emit('close');
    })();
    return this.#closing;
  }

  address() {
    return { host: this.#options.host ?? '127.0.0.1', port: this.port };
  }

  // ws://host:port, or wss:// with tlsCertFile/tlsKeyFile.
  get url() {
    const { host, port } = this.address();
    return `${this.#options.tlsCertFile !== undefined ? 'wss' : 'ws'}://${host}:${port}`;
  }

  // The internal listener's port (option internalListen), 0 without one
  // or when not listening.
  get internalPort() {
    return this.#native.internalPort();
  }

  get port() {
    return this.#native.port();
  }

  get nodeId() {
    return this.#native.nodeId();
  }

  get listening() {
    return this.#state === 'listening';
  }

  // As on net.Server: ref() (the default) lets a listening engine keep the
  // process alive, unref() does not; either may be called before listen().
  // A pending roomMembers/usersOnline/history keeps nothing alive of its
  // own, as with an unref'd server's pending work: await it in a program
  // that is otherwise done, or keep the engine ref'd.
  ref() {
    this.#native.ref();
    return this;
  }

  unref() {
    this.#native.unref();
    return this;
  }

  // Frame sends: the object (or its JSON text) is the frame, sent as is.
  sendToUser(userId, frame, options) {
    const p = this.#framePayload('sendToUser', 'sendMessageToUser', frame, options);
    this.#call(this.#native.sendToUser(check.userId(userId), p.from, p.kind, p.text), 'sendToUser');
  }

  sendToConnection(conn, frame, options) {
    const p = this.#framePayload('sendToConnection', 'sendMessageToConnection', frame, options);
    this.#call(this.#native.sendToConnection(connId(conn), p.from, p.kind, p.text), 'sendToConnection');
  }

  broadcast(room, frame, options) {
    const p = this.#framePayload('broadcast', 'broadcastMessage', frame, options);
    this.#call(this.#native.broadcast(check.room(room), p.from, p.kind, p.text), 'broadcast');
  }

  // Envelope sends: the engine wraps content (any JSON value) in the
  // protocol's message / direct_message envelope with from ('' without
  // options.from / options.sender), timestamp, and an offset with history.
  broadcastMessage(room, content, options) {
    const from = check.sender(options);
    this.#call(this.#native.broadcast(check.room(room), from, PAYLOAD_CONTENT, check.content(content)), 'broadcastMessage');
  }

  sendMessageToUser(userId, content, options) {
    const from = check.sender(options);
    this.#call(this.#native.sendToUser(check.userId(userId), from, PAYLOAD_CONTENT, check.content(content)),
      'sendMessageToUser');
  }

  sendMessageToConnection(conn, content, options) {
    const from = check.sender(options);
    this.#call(this.#native.sendToConnection(connId(conn), from, PAYLOAD_CONTENT, check.content(content)),
      'sendMessageToConnection');
  }

  #framePayload(what, envelope, frame, options) {
    const from = check.sender(options);
    if (from !== null) {
      deprecatedFrom(what, envelope);
      return { from, kind: PAYLOAD_CONTENT, text: check.content(frame) };
    }
    return { from: null, kind: PAYLOAD_RAW, text: check.frame(frame) };
  }

  join(conn, room) {
    this.#call(this.#native.join(connId(conn), check.room(room)), 'join');
  }

  leave(conn, room) {
    this.#call(this.#native.leave(connId(conn), check.room(room)), 'leave');
  }

  // The distinct users with a connection in room on any node:
  // { users, truncated } with at most limit users (default: presenceLimit);
  // truncated when the room had more.
  async roomMembers(room, options = {}) {
    const limit = options.limit ?? 0;
    if (limit !== 0 && (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff)) {
      return Promise.reject(invalid('limit must be a positive integer'));
    }
    return this.#query('roomMembers', (token) => this.#native.roomMembers(check.room(room), limit, token),
      (users, truncated) => ({ users, truncated }));
  }

  // Whether each user has a connection on any node: { [userId]: boolean }.
  async isOnline(users) {
    if (!Array.isArray(users)) return Promise.reject(invalid('users must be an array of user ids'));
    const unique = [...new Set(users.map((u) => check.userId(u)))];
    if (unique.length < 1 || unique.length > 1000) return Promise.reject(invalid('users must hold 1 to 1000 user ids'));
    return this.#query('isOnline', (token) => this.#native.usersOnline(unique, token), (names, _t, flags) => {
      const out = {};
      names.forEach((name, i) => { out[name] = flags[i]; });
      return out;
    });
  }

  // The newest `limit` (default 50; at most 1000 and at most historySize
  // are returned) stored messages of room with an offset below `before`
  // (default: no bound), oldest first: { epoch, offset, messages } with the
  // room's current offset and each stored message frame parsed.
  async history(room, options = {}) {
    if (options === null || typeof options !== 'object') return Promise.reject(invalid('options must be an object'));
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff) {
      return Promise.reject(invalid('limit must be a positive integer'));
    }
    const before = options.before ?? 0;
    if (options.before != null && (!Number.isInteger(before) || before < 1 || before > 2 ** 53)) {
      return Promise.reject(invalid('before must be an offset 1..2^53'));
    }
    if (this.#state !== 'listening') {
      return Promise.reject(new RtcoreError('RTC_ESTATE', 'rtcore: history: the engine is not listening'));
    }
    return this.#query('history', (token) => this.#native.history(check.room(room), limit, before, token),
      (epoch, offset, frames) => ({ epoch, offset, messages: frames.map((f) => JSON.parse(f)) }),
      { [RTC_ENOTSUP]: 'rtcore: history: the engine runs without history (set the historySize option)' });
  }

  // send(token) -> rc; shape(...answer) -> the value resolved; messages:
  // rc -> a clearer message than the generic one for that code.
  #query(what, send, shape, messages = {}) {
    return new Promise((resolve, reject) => {
      const token = ++this.#nextQuery;
      this.#queries.set(token, {
        what,
        reject,
        resolve: (status, ...answer) => {
          if (status !== 0) reject(engineError(status, what));
          else resolve(shape(...answer));
        },
      });
      let rc;
      try {
        rc = send(token);
      } catch (err) {
        this.#queries.delete(token);
        reject(err);
        return;
      }
      if (rc !== 0) {
        this.#queries.delete(token);
        reject(messages[rc] !== undefined ? new RtcoreError(native.errName(rc), messages[rc]) : engineError(rc, what));
      }
    });
  }

  // [kind, token, status, ...answer]: (users, truncated, flags) for a
  // presence query, (epoch, top, frames) for a history read.
  #answer([, token, status, ...answer]) {
    const q = this.#queries.get(token);
    if (!q) return;
    this.#queries.delete(token);
    q.resolve(status, ...answer);
  }

  sendError(conn, code, message = '', id = undefined) {
    if (typeof code !== 'string' || code === '') throw invalid('error code must be a non-empty string');
    if (typeof message !== 'string') throw invalid('error message must be a string');
    const idText = id === undefined || id === null ? null : idJson(id);
    if ((id ?? null) !== null && idText === null) throw invalid('id must be a string or a safe integer');
    const cid = connId(conn);
    this.#call(this.#native.sendError(cid, code, message, idText), 'sendError');
    if (idText !== null) {
      // The ack rule: a listener answered this id itself; nothing more for it.
      const open = this.#open.get(idKey(cid, id));
      const entry = open && open.find((e) => !e.answered);
      if (entry) entry.answered = true;
    }
  }

  disconnect(conn, code) {
    this.#call(this.#native.disconnect(connId(conn), check.closeCode(code)), 'disconnect');
  }

  disconnectUser(userId, code) {
    this.#call(this.#native.disconnectUser(check.userId(userId), check.closeCode(code)), 'disconnectUser');
  }

  stats() {
    this.#requireRunning('stats');
    return this.#native.stats();
  }

  /** Every counter, gauge and histogram in the Prometheus text format (what
   * the engine's GET /metrics serves), for an Express route of the host's own:
   * `res.type(METRICS_CONTENT_TYPE).send(engine.metrics())`. */
  metrics() {
    this.#requireRunning('metrics');
    return this.#native.metrics();
  }

  // One port with the host's http.Server (lib/attach.js, docs/one-port.md):
  // attach(server, { path }) takes the server's upgrades below path and
  // returns { path, close() }; handleUpgrade(req, socket, head) hands one
  // upgrade over from the host's own 'upgrade' listener.
  attach(server, options) {
    return upgrade.attach(this.#upgradeHost(), (err) => this.#report(err), server, options);
  }

  handleUpgrade(req, socket, head) {
    upgrade.handUpgrade(this.#upgradeHost(), req, socket, head, req && req.url);
  }

  #upgradeHost() {
    return {
      adopt: (fd, bytes) => this.#native.adoptSocket(fd, bytes),
      listening: () => this.#state === 'listening',
      tls: this.#options.tlsCertFile !== undefined,
    };
  }

  #requireRunning(what) {
    if (this.#state !== 'listening' && this.#state !== 'closing') {
      throw new RtcoreError('RTC_ESTATE', `rtcore: ${what}: the engine is not listening`);
    }
  }

  #call(rc, what) {
    if (rc === 0) return;
    if (this.#state !== 'listening') this.#requireRunning(what);
    throw engineError(rc, what);
  }

  #syncWanted(added) {
    const has = (name) => name === added || this.listenerCount(name) > 0;
    const bits = (has('open') ? WANT_OPEN : 0) | (has('disconnect') ? WANT_DISCONNECT : 0) |
      (has('presence') ? WANT_PRESENCE : 0) | (has('log') ? WANT_LOG : 0);
    const names = this.eventNames().concat(added === undefined ? [] : [added]);
    const types = names.filter((n) => typeof n === 'string' && n.startsWith('message:')).map((n) => n.slice(8));
    this.#native.setWanted(bits, [...new Set(types)], has('message'));
  }

  // An engine log line: { level, event, message, fields }.
  #log(ev) {
    let fields = {};
    try {
      fields = JSON.parse(ev[4]);
    } catch {
      // always one JSON object from the engine; keep the line anyway
    }
    this.#emitSafely('log', { level: LOG_LEVELS[ev[1]] ?? 'debug', event: ev[2], message: ev[3], fields });
  }

  // One call per batch from the engine thread; nothing thrown here may
  // escape (it would be an uncaught exception in a native callback).
  #dispatch(batch) {
    for (const ev of batch) {
      try {
        switch (ev[0]) {
          case EV_CONNECT: this.#authorize(ev); break;
          case EV_AUTHORIZE: this.#authorizeAction(ev); break;
          case EV_OPEN: this.#emitSafely('open', new Connection(this, ev[1], ev[2])); break;
          case EV_DISCONNECT: this.#emitSafely('disconnect', new Connection(this, ev[1], ev[2]), ev[3]); break;
          case EV_MESSAGE: this.#message(ev); break;
          case EV_ANSWER:
          case EV_HISTORY:
            this.#answer(ev);
            break;
          case EV_PRESENCE:
            this.#emitSafely('presence', { userId: ev[1], status: ev[2] === 1 ? 'online' : 'offline', timestamp: ev[3] });
            break;
          case EV_LOG: this.#log(ev); break;
          default: break;
        }
      } catch (err) {
        this.#report(err);
      }
    }
  }

  async #authorize([, requestId, userId, path, query, headers]) {
    const req = {
      id: requestId, userId, path, query, headers,
      params: { userId },
      searchParams: new URLSearchParams(query),
    };
    let accept = true;
    let status = 0;
    let user = null;
    try {
      const result = await this.#connectHook(req);
      if (result === false) {
        accept = false;
        status = 403;
      } else if (typeof result === 'string') {
        user = result;
      } else if (result != null && result !== true) {
        throw new TypeError('onConnect must return a user id string, true, false or undefined');
      }
    } catch (err) {
      accept = false;
      status = isReject(err) ? err.status : 500;
      if (!isReject(err)) this.#report(err);
    }
    if (this.#state !== 'listening') return; // the engine closes the waiting socket itself
    const rc = this.#native.resolve(requestId, accept, status, user);
    if (rc === RTC_EINVAL) {
      this.#report(invalid(`onConnect returned an invalid user id ${JSON.stringify(user)}`));
      this.#native.resolve(requestId, false, 500, null);
    }
  }

  async #authorizeAction([, id, userId, action, target, requestId]) {
    let allow = false;
    try {
      const name = ACTIONS[action];
      if (name === undefined) throw new TypeError(`onAuthorize: unknown action ${action}`);
      const result = await this.#authorizeHook(new Connection(this, id, userId), name, target);
      if (typeof result !== 'boolean') {
        throw new TypeError(`onAuthorize must return true or false, got ${typeof result === 'string' ? JSON.stringify(result) : String(result)}`);
      }
      allow = result;
    } catch (err) {
      this.#report(err);
    }
    if (this.#state !== 'listening') return; // stopping: nothing waits for the answer any more
    this.#native.authorizeResolve(requestId, allow);
  }

  // A host-defined message. With an id (idJson, its JSON text from the
  // engine) the client gets exactly one answer (docs/hosts.md): an ack once
  // every listener returned (or its promise resolved), one error when one
  // threw or rejected, nothing more when a listener answered the id itself
  // with sendError(conn, code, message, id).
  #message([, id, userId, type, json, idText]) {
    const conn = new Connection(this, id, userId);
    const listeners = this.listeners(`message:${type}`).concat(this.listeners('message'));
    if (listeners.length === 0) {
      // The listener went away after the engine thread checked.
      if (this.#state === 'listening') this.#native.sendError(id, 'unknown_type', `no handler for message type "${type}"`, idText);
      return;
    }
    const msg = JSON.parse(json);
    const requestId = idText === null ? undefined : msg.id;
    let entry = null;
    if (idText !== null) {
      entry = { answered: false };
      const key = idKey(id, requestId);
      const open = this.#open.get(key);
      if (open) open.push(entry);
      else this.#open.set(key, [entry]);
    }
    const results = [];
    let errors = [];
    for (const fn of listeners) {
      try {
        const r = Reflect.apply(fn, this, [conn, msg, requestId]);
        if (r != null && typeof r.then === 'function') results.push(r);
      } catch (err) {
        errors.push(err);
      }
    }
    const finish = () => this.#answerMessage(conn, type, requestId, idText, entry, errors);
    if (results.length === 0) {
      finish();
      return;
    }
    Promise.allSettled(results).then((settled) => {
      errors = errors.concat(settled.filter((r) => r.status === 'rejected').map((r) => r.reason));
      finish();
    });
  }

  #answerMessage(conn, type, requestId, idJsonText, entry, errors) {
    if (entry !== null) {
      const key = idKey(conn.id, requestId);
      const open = this.#open.get(key) || [];
      const i = open.indexOf(entry);
      if (i >= 0) open.splice(i, 1);
      if (open.length === 0) this.#open.delete(key);
    }
    for (const err of errors) if (!isMessageError(err)) this.#report(err);
    if ((entry !== null && entry.answered) || this.#state !== 'listening') return;
    if (errors.length === 0) {
      if (idJsonText !== null) {
        this.#native.sendToConnection(conn.id, null, PAYLOAD_RAW, `{"type":"ack","id":${idJsonText}}`);
      }
      return;
    }
    const err = errors[0];
    // Errors are answered even without an id, as the engine does for built-in types.
    if (isMessageError(err)) {
      const rc = this.#native.sendError(conn.id, err.code, typeof err.message === 'string' ? err.message : err.code, idJsonText);
      if (rc === 0) return;
    }
    this.#native.sendError(conn.id, 'internal_error', `the ${type} handler failed`, idJsonText);
  }

  // Calls a listener of a host event; a throw or a rejected promise is
  // reported. Never rethrows.
  #invoke(fn, args) {
    const failed = (err) => this.#report(err);
    try {
      const r = Reflect.apply(fn, this, args);
      if (r != null && typeof r.then === 'function') r.then(undefined, failed);
    } catch (err) {
      failed(err);
    }
  }

  #emitSafely(name, ...args) {
    for (const fn of this.listeners(name)) this.#invoke(fn, args);
  }

  #report(err) {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err);
        return;
      } catch (inner) {
        err = inner;
      }
    }
    console.error('rtcore: error in a handler:', err);
  }
}

module.exports = { Engine };
