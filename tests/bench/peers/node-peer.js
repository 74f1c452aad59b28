#!/usr/bin/env node
// Reference peer for the benchmarks: the usual hand-written Node chat server
// (ws + ioredis, a ConnectionManager with connections / users / rooms maps,
// one JSON.stringify per recipient, Redis pub/sub between nodes), as in the
// reference design our users start from, written by us, with the
// reference's functional defects fixed just enough to be comparable:
//
//  - no duplicate delivery: publications carry the origin node id and a
//    node ignores its own; local members are served directly;
//  - user channels are subscribed (while the user has a local connection),
//    so cross-node direct messages arrive;
//  - the message handler is attached before anything is awaited, so a
//    join_room sent right after connecting is not lost;
//  - channel names are sliced, not split on ':';
//  - rooms are unsubscribed when their last local member leaves;
//  - acks: a message with "id" gets {"type":"ack","id":...} once it took
//    effect (join: after Redis confirmed the subscription), as rtcore does,
//    so the load generator can wait for joins on both servers alike;
//  - room_message requires membership (not_in_room), like rtcore;
//  - a connection whose ws.bufferedAmount passes --max-queue-bytes is closed
//    (1008), like rtcore's bounded send queue (the reference buffers forever).
//
// Everything else stays the reference design: per-recipient JSON encoding,
// ws.send per message, per-node presence publishes, 30 s heartbeat.
//
// Usage: node node-peer.js [--host H] [--port N] [--redis URL] [--node-id ID]
//                          [--max-queue-bytes N]
// Prints "node-peer listening on ws://H:PORT (node ID)" when ready.
'use strict';

const http = require('http');
const crypto = require('crypto');
const WebSocket = require('ws');

function parseArgs(argv) {
  const o = { host: '127.0.0.1', port: 0, redis: '', nodeId: '', maxQueueBytes: 4 << 20 };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--host') o.host = v();
    else if (a === '--port') o.port = Number(v());
    else if (a === '--redis') o.redis = v();
    else if (a === '--node-id') o.nodeId = v();
    else if (a === '--max-queue-bytes') o.maxQueueBytes = parseSize(v());
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.nodeId) o.nodeId = 'peer-' + crypto.randomBytes(4).toString('hex');
  return o;
}

function parseSize(s) {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  const mult = { '': 1, K: 1024, M: 1 << 20, G: 1 << 30 }[m[2].toUpperCase()];
  return Number(m[1]) * mult;
}

const opts = parseArgs(process.argv);

class Connection {
  constructor(ws, userId) {
    this.ws = ws;
    this.userId = userId;
    this.connectionId = crypto.randomUUID();
    this.connectedAt = new Date();
    this.subscriptions = new Set();
    this.isAlive = true;
  }

  // The reference design: one JSON encoding per recipient.
  send(message) {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > opts.maxQueueBytes) {
      // Slow consumer: bounded like rtcore's queue.
      this.ws.close(1008, 'slow consumer');
      setTimeout(() => this.ws.terminate(), 1000).unref();
      return false;
    }
    this.ws.send(JSON.stringify(message));
    return true;
  }
}

class ConnectionManager {
  constructor(redisUrl, nodeId) {
    this.nodeId = nodeId;
    this.connections = new Map();
    this.userConnections = new Map();
    this.roomConnections = new Map();
    // channel -> promise of the SUBSCRIBE (an ack waits for it)
    this.subscribed = new Map();
    this.redis = null;
    this.subscriber = null;
    if (redisUrl) {
      const Redis = require('ioredis');
      this.redis = new Redis(redisUrl);
      this.subscriber = new Redis(redisUrl);
      this.setupRedisSubscriber();
    }
    this.startHeartbeat();
  }

  setupRedisSubscriber() {
    this.subscriber.on('message', (channel, raw) => {
      const env = JSON.parse(raw);
      if (env.origin === this.nodeId) return; // our own publication
      if (channel.startsWith('room:')) this.localBroadcastRoom(channel.slice(5), env.message);
      else if (channel.startsWith('user:')) this.localSendUser(channel.slice(5), env.message);
    });
  }

  subscribe(channel) {
    if (!this.subscriber) return Promise.resolve();
    let p = this.subscribed.get(channel);
    if (!p) {
      p = this.subscriber.subscribe(channel);
      this.subscribed.set(channel, p);
    }
    return p;
  }

  unsubscribe(channel) {
    if (!this.subscriber || !this.subscribed.has(channel)) return;
    this.subscribed.delete(channel);
    this.subscriber.unsubscribe(channel).catch(() => {});
  }

  publish(channel, message) {
    if (!this.redis) return Promise.resolve();
    return this.redis.publish(channel, JSON.stringify({ origin: this.nodeId, message }));
  }

  startHeartbeat() {
    setInterval(() => {
      for (const conn of this.connections.values()) {
        if (!conn.isAlive) {
          this.disconnect(conn);
          continue;
        }
        conn.isAlive = false;
        conn.ws.ping();
      }
    }, 30000).unref();
  }

  connect(ws, userId) {
    const connection = new Connection(ws, userId);
    ws.on('pong', () => { connection.isAlive = true; });
    this.connections.set(connection.connectionId, connection);
    let set = this.userConnections.get(userId);
    if (!set) {
      set = new Set();
      this.userConnections.set(userId, set);
      this.subscribe(`user:${userId}`).catch(() => {});
      this.publishPresence(userId, 'online');
    }
    set.add(connection.connectionId);
    return connection;
  }

  disconnect(connection) {
    const { connectionId, userId, subscriptions } = connection;
    if (!this.connections.has(connectionId)) return;
    for (const room of subscriptions) this.removeFromRoom(connectionId, room);
    const userConns = this.userConnections.get(userId);
    if (userConns) {
      userConns.delete(connectionId);
      if (userConns.size === 0) {
        this.userConnections.delete(userId);
        this.unsubscribe(`user:${userId}`);
        this.publishPresence(userId, 'offline');
      }
    }
    try { connection.ws.terminate(); } catch (e) { /* already gone */ }
    this.connections.delete(connectionId);
  }

  joinRoom(connection, room) {
    connection.subscriptions.add(room);
    let members = this.roomConnections.get(room);
    if (!members) {
      members = new Set();
      this.roomConnections.set(room, members);
    }
    members.add(connection.connectionId);
    return this.subscribe(`room:${room}`);
  }

  removeFromRoom(connectionId, room) {
    const members = this.roomConnections.get(room);
    if (!members) return;
    members.delete(connectionId);
    if (members.size === 0) {
      this.roomConnections.delete(room);
      this.unsubscribe(`room:${room}`);
    }
  }

  leaveRoom(connection, room) {
    connection.subscriptions.delete(room);
    this.removeFromRoom(connection.connectionId, room);
  }

  sendToUser(userId, message) {
    this.localSendUser(userId, message);
    return this.publish(`user:${userId}`, message);
  }

  broadcastToRoom(room, message) {
    this.localBroadcastRoom(room, message);
    return this.publish(`room:${room}`, message);
  }

  localBroadcastRoom(room, message) {
    const members = this.roomConnections.get(room);
    if (!members) return;
    for (const connId of members) {
      const conn = this.connections.get(connId);
      if (conn) conn.send(message);
    }
  }

  localSendUser(userId, message) {
    const conns = this.userConnections.get(userId);
    if (!conns) return;
    for (const connId of conns) {
      const conn = this.connections.get(connId);
      if (conn) conn.send(message);
    }
  }

  publishPresence(userId, status) {
    if (!this.redis) return;
    this.redis.publish('presence', JSON.stringify({ user_id: userId, status, timestamp: new Date().toISOString() }))
      .catch(() => {});
  }
}

const manager = new ConnectionManager(opts.redis, opts.nodeId);

function reply(connection, obj) {
  if (connection.ws.readyState === WebSocket.OPEN) connection.ws.send(JSON.stringify(obj));
}

function sendError(connection, code, text, id) {
  const e = { type: 'error', code, message: text };
  if (id !== undefined) e.id = id;
  reply(connection, e);
}

async function handleMessage(connection, message) {
  const { type, room, to, content, id } = message;
  const ack = () => { if (id !== undefined) reply(connection, { type: 'ack', id }); };
  switch (type) {
    case 'join_room':
      if (typeof room !== 'string' || !room) return sendError(connection, 'missing_field', 'room', id);
      await manager.joinRoom(connection, room);
      return ack();
    case 'leave_room':
      if (typeof room !== 'string' || !room) return sendError(connection, 'missing_field', 'room', id);
      manager.leaveRoom(connection, room);
      return ack();
    case 'room_message':
      if (typeof room !== 'string' || !room || content === undefined) {
        return sendError(connection, 'missing_field', 'room/content', id);
      }
      if (!connection.subscriptions.has(room)) return sendError(connection, 'not_in_room', room, id);
      await manager.broadcastToRoom(room, {
        type: 'message', room, from: connection.userId, content, timestamp: new Date().toISOString(),
      });
      return ack();
    case 'direct_message':
      if (typeof to !== 'string' || !to || content === undefined) {
        return sendError(connection, 'missing_field', 'to/content', id);
      }
      await manager.sendToUser(to, {
        type: 'direct_message', from: connection.userId, content, timestamp: new Date().toISOString(),
      });
      return ack();
    default:
      return sendError(connection, 'unknown_type', String(type), id);
  }
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200);
    res.end('ok');
    return;
  }
  res.writeHead(404);
  res.end();
});
const wss = new WebSocket.Server({ noServer: true, maxPayload: 1 << 20 });

server.on('upgrade', (request, socket, head) => {
  const pathname = request.url.split('?')[0];
  const m = /^\/ws\/([^/]+)$/.exec(pathname);
  let userId = null;
  if (m) {
    try { userId = decodeURIComponent(m[1]); } catch (e) { userId = null; }
  }
  if (!userId) {
    socket.write('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
    return;
  }
  wss.handleUpgrade(request, socket, head, (ws) => {
    const connection = manager.connect(ws, userId);
    ws.on('message', (data, isBinary) => {
      let message;
      try {
        message = JSON.parse(data);
      } catch (e) {
        return sendError(connection, 'bad_json', 'not JSON');
      }
      if (message === null || typeof message !== 'object' || Array.isArray(message) || isBinary) {
        return sendError(connection, 'bad_json', 'not a JSON object');
      }
      handleMessage(connection, message).catch((e) => {
        console.error('message error:', e);
        sendError(connection, 'internal', String(e && e.message), message.id);
      });
    });
    ws.on('close', () => manager.disconnect(connection));
    ws.on('error', () => manager.disconnect(connection));
  });
});

server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  console.log(`node-peer listening on ws://${opts.host}:${port} (node ${opts.nodeId}, ` +
              `backplane ${opts.redis ? 'redis' : 'in-process'})`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of manager.connections.values()) { try { c.ws.terminate(); } catch (e) { /* gone */ } }
    if (manager.redis) { manager.redis.disconnect(); manager.subscriber.disconnect(); }
    server.close();
    process.exit(0);
  });
}
