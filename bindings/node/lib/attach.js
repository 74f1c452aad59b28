'use strict';
// One port for the host's HTTP server and the engine: engine.attach(server)
// and engine.handleUpgrade(req, socket, head) hand an upgrade request that
// Node's http.Server has parsed to the engine, socket and all. Node has
// read the request already, so it is rebuilt from `req` (request line and
// raw headers, byte for byte as Node kept them) and passed with `head` (the
// bytes after it); the socket's descriptor is duplicated in the addon and
// the duplicate handed over (rtc_engine_adopt_socket), then Node closes its
// own copy without writing to it or reading from it again. The engine
// answers the upgrade itself, so its origin and auth rules, the onConnect
// hook, limits and counters apply exactly as on its own port.
// See docs/one-port.md.
const { RtcoreError, invalid } = require('./errors');

const STATUS_TEXT = { 500: 'Internal Server Error', 503: 'Service Unavailable' };

// Answers an upgrade the engine could not take and drops the socket.
function refuse(socket, status, reason) {
  const body = `${status} ${STATUS_TEXT[status]}: ${reason}\n`;
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroySoon?.();
}

// The request as the client sent it, but with `url` in its request line.
// Node keeps header names and values as latin1 strings of the raw bytes.
function requestBytes(req, url) {
  let text = `${req.method} ${url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

// host: { adopt(fd, buffer) -> rc, listening(), tls } from the Engine.
// Throws an RtcoreError after answering the client with an HTTP error and
// dropping the socket (503 while the engine is not listening, 500 when
// the socket cannot be handed over).
function handUpgrade(host, req, socket, head, url) {
  if (!req || typeof req.method !== 'string' || !Array.isArray(req.rawHeaders)) {
    throw invalid('handleUpgrade: req must be the http.IncomingMessage of an upgrade request');
  }
  if (!socket || typeof socket.destroy !== 'function') throw invalid('handleUpgrade: socket must be a net.Socket');
  if (head != null && !Buffer.isBuffer(head)) throw invalid('handleUpgrade: head must be a Buffer');
  const fail = (status, code, message) => {
    refuse(socket, status, message);
    throw new RtcoreError(code, `rtcore: handleUpgrade: ${message}`);
  };
  if (!host.listening()) fail(503, 'RTC_ESTATE', 'the engine is not listening');
  if (host.tls) fail(500, 'RTC_ENOTSUP', 'an engine serving TLS (tlsCertFile) cannot take a plain socket');
  const handle = socket._handle;
  const fd = handle && handle.fd;
  if (socket.encrypted || !Number.isInteger(fd) || fd < 0) {
    fail(500, 'RTC_ENOTSUP', 'the socket has no plain TCP descriptor (a TLS socket?): terminate TLS in front of ' +
      'the server, or let the engine listen with tlsCertFile');
  }
  // No more reads by Node: everything it has read so far is in req, head
  // and the socket's buffer, and all of it goes to the engine.
  if (typeof handle.readStop === 'function') handle.readStop();
  socket.pause();
  const parts = [requestBytes(req, url)];
  if (head && head.length > 0) parts.push(head);
  if (socket.readableLength > 0) parts.push(socket.read());
  const rc = host.adopt(fd, Buffer.concat(parts));
  if (rc !== 0) {
    fail(rc === -3 ? 503 : 500, rc === -3 ? 'RTC_ESTATE' : 'RTC_EINTERNAL', `the engine refused the socket (${rc})`);
  }
  // The engine holds its own descriptor for the connection; closing Node's
  // sends nothing (no shutdown(2)) and removes it from Node's poll set.
  socket.destroy();
}

// The prefix as given, without a trailing slash ('/' becomes '').
function mountPath(path) {
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s?#]/.test(path)) {
    throw invalid(`attach: path must be an absolute URL path like '/ws', got ${JSON.stringify(path)}`);
  }
  return path.replace(/\/+$/, '');
}

// server: an http.Server (or anything emitting 'upgrade' as it does).
// Upgrades whose URL path is `path` or below go to the engine, with `path`
// standing for the engine's /ws: with path '/realtime', a client connects
// to /realtime/alice and the engine sees /ws/alice. Other upgrades are
// left to the server's other 'upgrade' listeners; with none, the socket is
// destroyed (a server with an 'upgrade' listener hands every upgrade to
// its 'upgrade' listeners, never to its request handler).
function attach(host, report, server, options = {}) {
  if (!server || typeof server.on !== 'function' || typeof server.removeListener !== 'function') {
    throw invalid('attach: server must be an http.Server');
  }
  if (options === null || typeof options !== 'object') throw invalid('attach: options must be an object');
  const prefix = mountPath(options.path ?? '/ws');
  const onUpgrade = (req, socket, head) => {
    const url = typeof req.url === 'string' ? req.url : '';
    const rest = url.slice(prefix.length);
    const mine = url.startsWith(prefix) && (rest === '' || rest.startsWith('/') || rest.startsWith('?'));
    if (!mine) {
      if (server.listenerCount('upgrade') <= 1) socket.destroy();
      return;
    }
    try {
      handUpgrade(host, req, socket, head, prefix === '/ws' ? url : `/ws${rest}`);
    } catch (err) {
      report(err);
    }
  };
  server.on('upgrade', onUpgrade);
  return {
    path: prefix === '' ? '/' : prefix,
    // Stops taking upgrades from server (connections already handed over
    // stay with the engine).
    close() {
      server.removeListener('upgrade', onUpgrade);
    },
  };
}

module.exports = { attach, handUpgrade };
