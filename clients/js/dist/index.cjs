'use strict';
// Generated from src/index.js by scripts/build.mjs; do not edit.
// rtcore-client: a WebSocket client for rtcore servers (docs/protocol.md),
// for browsers and Node 20+. No runtime dependencies. This file is the ES
// module; scripts/build.mjs derives dist/index.cjs from it, so it uses no
// `import` and exports only through the final `export { ... }` line.

const DEFAULTS = {
  minDelay: 250, // first reconnect delay, ms (before jitter)
  maxDelay: 10000, // cap of the exponential backoff, ms
  factor: 2,
  maxQueue: 100, // requests held while disconnected; one more is rejected
  noReconnectCodes: [1008, 4401, 4403], // "go away" (docs/protocol.md section 4)
  connectTimeout: 10000, // ms an opening socket may take before it is dropped
  stableAfter: 5000, // ms a connection must last for the backoff to start over
  resumeDirect: true,
};

const OPEN = 1;

class RtcoreClientError extends Error {
  constructor(code, message, extra) {
    super(message || code);
    this.name = 'RtcoreClientError';
    this.code = code;
    if (extra) Object.assign(this, extra);
  }
}

// A tiny event emitter that behaves the same in browsers and Node.
class Emitter {
  constructor() {
    this._handlers = new Map();
  }
  on(event, fn) {
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(fn);
    return this;
  }
  once(event, fn) {
    const wrapped = (...args) => {
      this.off(event, wrapped);
      fn(...args);
    };
    return this.on(event, wrapped);
  }
  off(event, fn) {
    const set = this._handlers.get(event);
    if (set) set.delete(fn);
    return this;
  }
  emit(event, ...args) {
    const set = this._handlers.get(event);
    if (!set || set.size === 0) return false;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (err) {
        // A throwing listener must not break the client's state machine.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
    return true;
  }
}

// One ordered stream (a room, or the user's direct messages): the position
// the client has delivered up to, and whether a resynchronisation (a join
// with `since`, a resume_direct) is in flight. Section 8: offsets are
// gap-free within an epoch, so while resyncing only position+1 is accepted,
// and outside one anything but position+1 means a gap (resync) or a
// duplicate (drop).
class Stream {
  constructor() {
    this.epoch = null;
    this.offset = null;
    this.resyncing = false;
  }
  get since() {
    return this.epoch != null && this.offset != null ? { epoch: this.epoch, offset: this.offset } : null;
  }
  // 'deliver', 'drop' or 'gap'.
  accept(offset) {
    if (typeof offset !== 'number') return 'deliver'; // history off
    if (this.offset == null) {
      // Not tracking yet (a plain join before its ack): deliver, remember.
      this.offset = offset;
      return 'deliver';
    }
    if (offset === this.offset + 1) {
      this.offset = offset;
      return 'deliver';
    }
    if (offset <= this.offset) return 'drop';
    return this.resyncing ? 'drop' : 'gap';
  }
  // The answer to a join / resume: returns true when the stream was reset.
  settle(answer, hadSince) {
    this.resyncing = false;
    if (typeof answer.offset !== 'number') return false; // history off
    const reset = hadSince && answer.recovered === false;
    if (reset || this.epoch !== answer.epoch || this.offset == null) {
      this.epoch = answer.epoch;
      this.offset = answer.offset;
    } else if (this.offset < answer.offset) {
      this.offset = answer.offset; // the replay ends at M; never move back
    }
    return reset;
  }
}

class Room extends Emitter {
  constructor(client, name, options) {
    super();
    this.client = client;
    this.name = name;
    this.presence = !!(options && options.presence);
    this.state = 'idle'; // idle | joining | joined | left
    this._stream = new Stream();
    this._joinWaiters = [];
  }

  /** Position in the room's stream ({epoch, offset}), or null. */
  get position() {
    return this._stream.since;
  }

  /** Joins (again); resolves with {room, epoch, offset, recovered} once the server acked. */
  join(options) {
    const change = !!options && 'presence' in options && !!options.presence !== this.presence;
    if (change) this.presence = !!options.presence;
    if (this.state === 'joined' && !change) return Promise.resolve(this._lastJoin);
    return new Promise((resolve, reject) => {
      this._joinWaiters.push({ resolve, reject });
      if (this.state === 'joining' && !change) return; // one join in flight is enough
      this.state = 'joining';
      this.client._rooms.set(this.name, this);
      this.client._sendJoin(this);
    });
  }

  leave() {
    this.state = 'left';
    this._stream = new Stream();
    this._failJoin(new RtcoreClientError('left', 'left the room before the join completed'));
    this.client._rooms.delete(this.name);
    this.client._dropRoomQueue(this);
    if (!this.client._isOpen()) return Promise.resolve();
    return this.client._request({ type: 'leave_room', room: this.name }, { idempotent: true }).then(() => undefined);
  }

  /** Posts content; resolves with the ack once the server took it. */
  send(content) {
    return this.client._request({ type: 'room_message', room: this.name, content }, { room: this });
  }

  /** Who is in the room, cluster-wide: {users, truncated}. */
  members() {
    return this.client.presence(this.name);
  }

  /** Stored messages, oldest first: {epoch, messages}. */
  history(options) {
    const frame = { type: 'history', room: this.name };
    if (options && options.limit != null) frame.limit = options.limit;
    if (options && options.before != null) frame.before = options.before;
    return this.client._request(frame, { room: this, idempotent: true }).then((a) => ({
      epoch: a.epoch,
      messages: a.messages || [],
    }));
  }

  _joined(answer, hadSince) {
    this.state = 'joined';
    const reset = this._stream.settle(answer, hadSince);
    const info = { room: this.name, recovered: answer.recovered, epoch: answer.epoch, offset: answer.offset };
    this._lastJoin = info;
    if (reset) {
      this.emit('reset', info);
      this.client.emit('recovered', { ...info, recovered: false });
    } else if (hadSince && answer.recovered === true) {
      this.emit('recovered', info);
      this.client.emit('recovered', info);
    }
    this.emit('joined', info);
    const waiters = this._joinWaiters.splice(0);
    for (const w of waiters) w.resolve(info);
    this.client._flush();
  }

  _failJoin(err) {
    const waiters = this._joinWaiters.splice(0);
    for (const w of waiters) w.reject(err);
  }

  _onMessage(frame) {
    const verdict = this._stream.accept(frame.offset);
    if (verdict === 'deliver') {
      this.emit('message', frame);
      this.client.emit('message', frame);
    } else if (verdict === 'gap') {
      this.client._resyncRoom(this);
    }
  }
}

class Client extends Emitter {
  constructor(urls, options) {
    super();
    const opts = { ...DEFAULTS, ...(options || {}) };
    this.urls = (Array.isArray(urls) ? urls : [urls]).map(String);
    if (this.urls.length === 0) throw new TypeError('rtcore-client: at least one URL is needed');
    this.userId = opts.userId != null ? String(opts.userId) : null;
    this.options = opts;
    this._WebSocket = opts.WebSocket || globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new TypeError('rtcore-client: no WebSocket: pass one in options.WebSocket (e.g. the "ws" package)');
    }
    if (this.userId == null && opts.token == null && !opts.getToken) {
      throw new TypeError('rtcore-client: a userId, a token or getToken is needed');
    }
    this.state = 'idle'; // connecting | connected | disconnected | closed
    this.url = null; // the URL of the current (or last) socket
    this._urlIndex = 0;
    this._attempt = 0;
    this._ws = null;
    this._timer = null;
    this._connectTimer = null;
    this._nextId = 1;
    this._pending = new Map(); // id -> request sent on the current socket
    this._queue = []; // requests waiting for a connection (or a room's join)
    this._rooms = new Map(); // rooms joined or being joined
    this._roomObjects = new Map();
    this._direct = new Stream();
    this._directHistory = null; // unknown until resume_direct is answered
    // Deferred, so that listeners attached right after connect() see 'connecting'.
    this._timer = setTimeout(() => this._open(), 0);
  }

  // -- public ---------------------------------------------------------------

  /** The Room object for name (one per name and client); join() it to get messages. */
  room(name, options) {
    let room = this._roomObjects.get(name);
    if (!room) {
      room = new Room(this, name, options);
      this._roomObjects.set(name, room);
    } else if (options && 'presence' in options && room.state === 'idle') room.presence = !!options.presence;
    return room;
  }

  get rooms() {
    return [...this._rooms.values()];
  }

  sendDirect(user, content) {
    return this._request({ type: 'direct_message', to: String(user), content });
  }

  presence(room) {
    return this._request({ type: 'presence', room }, { idempotent: true }).then((a) => ({
      users: a.users || [],
      truncated: !!a.truncated,
    }));
  }

  online(users) {
    return this._request({ type: 'online', users: [...users] }, { idempotent: true }).then((a) => a.users || {});
  }

  /** Sends any frame (a host-defined type); resolves with the answer carrying its id. */
  request(frame) {
    return this._request({ ...frame });
  }

  /** Position in the user's direct-message stream, or null. */
  get directPosition() {
    return this._direct.since;
  }

  /** Stops for good: closes the socket, rejects what waits, clears every timer. */
  close() {
    if (this.state === 'closed') return;
    this._shutdown(new RtcoreClientError('closed', 'the client was closed'));
    this._setState('closed', { code: 1000, reason: 'client closed' });
  }

  // -- connection -----------------------------------------------------------

  _isOpen() {
    return this._ws != null && this._ws.readyState === OPEN && this.state === 'connected';
  }

  _setState(state, info) {
    this.state = state;
    this.emit(state, info || {});
    this.emit('state', state, info || {});
  }

  async _open() {
    this._timer = null;
    if (this.state === 'closed') return;
    const url = this.urls[this._urlIndex % this.urls.length];
    this._setState('connecting', { url, attempt: this._attempt });
    let token = this.options.token;
    if (this.options.getToken) {
      try {
        token = await this.options.getToken();
      } catch (err) {
        if (this.state === 'closed') return;
        this.emit('error', new RtcoreClientError('token', `getToken failed: ${err && err.message}`, { cause: err }));
        this._scheduleReconnect({ code: 0, reason: 'getToken failed' });
        return;
      }
      if (this.state === 'closed') return;
    }
    const full = buildUrl(url, this.userId, token, this.options.tokenTransport);
    const protocols = ['rtcore.v1'];
    if (token != null && this.options.tokenTransport === 'subprotocol') protocols.push(`bearer.${token}`);
    let ws;
    try {
      ws = new this._WebSocket(full, protocols);
    } catch (err) {
      this.emit('error', new RtcoreClientError('connect', err && err.message, { cause: err }));
      this._scheduleReconnect({ code: 0, reason: String(err && err.message) });
      return;
    }
    this._ws = ws;
    this.url = url;
    this._connectTimer = setTimeout(() => {
      this._connectTimer = null;
      if (this._ws === ws && ws.readyState !== OPEN) this._dropSocket(ws, { code: 0, reason: 'connect timeout' });
    }, this.options.connectTimeout);
    ws.onopen = () => this._onOpen(ws);
    ws.onmessage = (ev) => this._onFrame(ws, ev.data);
    ws.onerror = () => {}; // a close always follows
    ws.onclose = (ev) => this._dropSocket(ws, { code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
  }

  _onOpen(ws) {
    if (this._ws !== ws) return;
    clearTimeout(this._connectTimer);
    this._connectTimer = null;
    this._openedAt = Date.now();
    this._setState('connected', { url: this.url });
    // Rooms first (their sends wait for the join), then direct messages.
    for (const room of this._rooms.values()) {
      if (room.state === 'joined' || room.state === 'joining') {
        room.state = 'joining';
        this._sendJoin(room);
      }
    }
    if (this.options.resumeDirect && this._directHistory !== false) this._sendResumeDirect();
    this._flush();
  }

  _dropSocket(ws, info) {
    if (this._ws !== ws) return;
    clearTimeout(this._connectTimer);
    this._connectTimer = null;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    try {
      if (ws.readyState <= OPEN) ws.close();
    } catch (_) {
      /* already closing */
    }
    this._ws = null;
    // A server that accepts and at once closes must not get a tight loop.
    if (this._openedAt != null && Date.now() - this._openedAt >= this.options.stableAfter) this._attempt = 0;
    this._openedAt = null;
    this._failInFlight();
    for (const room of this._rooms.values()) if (room.state === 'joined') room.state = 'joining';
    if (this.state === 'closed') return;
    if (this.options.noReconnectCodes.includes(info.code)) {
      this._shutdown(new RtcoreClientError('closed', `the server closed the connection with ${info.code}`, info));
      this._setState('closed', { ...info, willReconnect: false });
      return;
    }
    this._scheduleReconnect(info);
  }

  _scheduleReconnect(info) {
    if (this.state === 'closed' || this.options.reconnect === false) {
      if (this.state !== 'closed') {
        this._shutdown(new RtcoreClientError('closed', 'disconnected and reconnect is off', info));
        this._setState('closed', { ...info, willReconnect: false });
      }
      return;
    }
    const o = this.options;
    const base = Math.min(o.maxDelay, o.minDelay * o.factor ** this._attempt);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2); // "equal jitter"
    this._attempt += 1;
    this._urlIndex += 1; // try the next node (a single URL: the same one)
    this._setState('disconnected', { ...info, willReconnect: true, delay });
    this._timer = setTimeout(() => this._open(), delay);
  }

  _shutdown(err) {
    clearTimeout(this._timer);
    clearTimeout(this._connectTimer);
    this._timer = this._connectTimer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.onerror = () => {};
      try {
        ws.close(1000);
      } catch (_) {
        /* ignore */
      }
    }
    for (const req of this._pending.values()) req.reject(err);
    this._pending.clear();
    for (const req of this._queue.splice(0)) req.reject(err);
    for (const room of this._rooms.values()) room._failJoin(err);
  }

  // Requests sent on a socket that is gone: queries are asked again, sends
  // may or may not have reached the server, so they are rejected.
  _failInFlight() {
    const requeue = [];
    for (const req of this._pending.values()) {
      if (req.internal) continue;
      if (req.idempotent) requeue.push(req);
      else {
        req.reject(
          new RtcoreClientError('disconnected', 'the connection closed before the server answered; it may have been delivered', {
            maybeDelivered: true,
          }),
        );
      }
    }
    this._pending.clear();
    this._queue.unshift(...requeue);
    for (const room of this._rooms.values()) room._stream.resyncing = false;
    this._direct.resyncing = false;
  }

  // -- requests -------------------------------------------------------------

  _request(frame, opts) {
    if (this.state === 'closed') return Promise.reject(new RtcoreClientError('closed', 'the client is closed'));
    return new Promise((resolve, reject) => {
      const req = { frame, resolve, reject, room: opts && opts.room, idempotent: !!(opts && opts.idempotent) };
      if (this._ready(req)) this._transmit(req);
      else if (this._queue.length >= this.options.maxQueue) {
        reject(new RtcoreClientError('queue_full', `offline queue full (${this.options.maxQueue} requests)`));
      } else this._queue.push(req);
    });
  }

  _ready(req) {
    if (!this._isOpen()) return false;
    // A send to a room being (re)joined waits for the join, so it is never
    // refused with not_in_room and comes after the replay.
    return !(req.room && req.room.state === 'joining' && req.frame.type !== 'history');
  }

  _transmit(req) {
    const id = this._nextId++;
    req.frame.id = id;
    this._pending.set(id, req);
    this._ws.send(JSON.stringify(req.frame));
  }

  _flush() {
    if (!this._isOpen()) return;
    const waiting = this._queue.splice(0);
    for (const req of waiting) {
      if (this._ready(req) && this._isOpen()) this._transmit(req);
      else this._queue.push(req);
    }
  }

  _dropRoomQueue(room) {
    const err = new RtcoreClientError('left', 'the room was left');
    this._queue = this._queue.filter((req) => {
      if (req.room !== room) return true;
      req.reject(err);
      return false;
    });
  }

  _sendJoin(room) {
    if (!this._isOpen()) return; // sent by _onOpen
    const frame = { type: 'join_room', room: room.name };
    if (room.presence) frame.presence = true;
    const since = room._stream.since;
    if (since) {
      frame.since = since;
      room._stream.resyncing = true;
    }
    const hadSince = !!since;
    const req = {
      frame,
      internal: true,
      resolve: (answer) => {
        if (this._rooms.get(room.name) === room && room.state !== 'left') room._joined(answer, hadSince);
      },
      reject: (err) => {
        room._stream.resyncing = false;
        if (err.code === 'unavailable') {
          // The membership stays and takes effect when Redis is back
          // (docs/protocol.md section 2); treat the room as joined.
          room._joined({}, false);
          room.emit('error', err);
          return;
        }
        if (err.code === 'invalid_field' && hadSince) {
          // A position the server refuses: start over without it.
          room._stream = new Stream();
          this._sendJoin(room);
          return;
        }
        room.state = 'idle';
        this._rooms.delete(room.name);
        room._failJoin(err);
        this._dropRoomQueue(room);
        room.emit('error', err);
      },
    };
    this._transmit(req);
  }

  _resyncRoom(room) {
    if (room._stream.resyncing || !this._isOpen()) return;
    this._sendJoin(room);
  }

  _sendResumeDirect() {
    const frame = { type: 'resume_direct' };
    const since = this._direct.since;
    if (since) {
      frame.since = since;
      this._direct.resyncing = true;
    }
    const hadSince = !!since;
    this._transmit({
      frame,
      internal: true,
      resolve: (answer) => {
        this._directHistory = true;
        const info = { direct: true, recovered: answer.recovered, epoch: answer.epoch, offset: answer.offset };
        if (this._direct.settle(answer, hadSince)) {
          this.emit('recovered', { ...info, recovered: false });
          this.emit('direct_reset', info);
        } else if (hadSince && answer.recovered) this.emit('recovered', info);
      },
      reject: (err) => {
        this._direct.resyncing = false;
        if (err.code === 'unknown_type') this._directHistory = false; // history off
        else if (err.code === 'invalid_field' && hadSince) {
          this._direct = new Stream();
          if (this._isOpen()) this._sendResumeDirect();
        }
      },
    });
  }

  _onFrame(ws, data) {
    if (this._ws !== ws) return;
    let frame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch (_) {
      return; // not ours to judge; a host may send anything
    }
    if (!frame || typeof frame !== 'object') return;
    const id = frame.id;
    switch (frame.type) {
      case 'message': {
        const room = this._rooms.get(frame.room);
        if (room) room._onMessage(frame);
        else this.emit('message', frame);
        return;
      }
      case 'direct_message': {
        const verdict = this._direct.accept(frame.offset);
        if (verdict === 'deliver') this.emit('direct', frame);
        else if (verdict === 'gap' && this._directHistory !== false) this._sendResumeDirect();
        return;
      }
      case 'user_joined':
      case 'user_left': {
        const room = this._rooms.get(frame.room);
        if (room) room.emit(frame.type, frame);
        this.emit(frame.type, frame);
        return;
      }
      case 'joined': {
        // A join with since but without id; ours always carry one.
        const room = this._rooms.get(frame.room);
        if (room) room._joined(frame, true);
        return;
      }
      case 'error':
        if (frame.code === 'gap' && id == null) {
          if (frame.direct) this._sendResumeDirect();
          else if (frame.room != null && this._rooms.has(frame.room)) this._resyncRoom(this._rooms.get(frame.room));
          return;
        }
        if (id != null && this._pending.has(id)) {
          const req = this._pending.get(id);
          this._pending.delete(id);
          req.reject(new RtcoreClientError(frame.code, frame.message, { frame }));
          return;
        }
        this.emit('error', new RtcoreClientError(frame.code, frame.message, { frame }));
        return;
      default:
        if (id != null && this._pending.has(id)) {
          const req = this._pending.get(id);
          this._pending.delete(id);
          req.resolve(frame);
          return;
        }
        this.emit('frame', frame); // a host's own frame
    }
  }
}

// ws://host:port        -> ws://host:port/ws/{user}
// ws://host:port/ws     -> ws://host:port/ws/{user}
// ws://host:port/x/y    -> used as given
// plus ?token=... (docs/protocol.md section 1). encodeURIComponent sends a
// `+` as %2B, which the server reads back as a plus.
function buildUrl(base, userId, token, transport) {
  const u = new URL(base);
  const path = u.pathname.replace(/\/+$/, '');
  if (path === '' || path === '/ws') {
    u.pathname = userId != null ? `/ws/${encodeURIComponent(userId)}` : '/ws';
  }
  if (token != null && transport !== 'subprotocol') u.searchParams.set('token', String(token));
  return u.toString();
}

function connect(urls, options) {
  return new Client(urls, options);
}

module.exports = { connect, Client, Room, RtcoreClientError, buildUrl };
