// Compiled by `tsc --noEmit`, never run: the README's usage must type-check
// against index.d.ts, and misuse must not.
import { Engine, Reject, RtcoreError, MessageError, Connection, defaults, type Stats, type PresenceEvent, type AuthorizeAction, type LogEvent, type History, type HistoryMessage } from 'rtcore';

async function main(): Promise<void> {
  const engine = new Engine({ port: 3000, redisUrl: process.env.REDIS_URL, pingInterval: 30000 });
  engine.onConnect(async (req) => {
    if (req.searchParams.get('token') !== 'ok') throw new Reject(401);
    return req.params.userId;
  });
  engine.onAuthorize(async (conn, action, target) => {
    const a: AuthorizeAction = action;
    if (a === 'join_room') return target.startsWith(conn.userId + ':') || target === 'lobby';
    return action !== 'direct_message' || target !== 'admin';
  });
  engine.onAuthorize((conn: Connection, action: AuthorizeAction, target: string) => action === 'room_message' && target !== '');
  engine.on('message:typing', (conn, msg) => {
    engine.broadcast(String(msg.room), { type: 'typing', from: conn.userId });
  });
  engine.on('presence', (ev: PresenceEvent) => console.log(ev.userId, ev.status, ev.timestamp));
  engine.on('open', (conn: Connection) => conn.join('lobby'));
  engine.on('disconnect', (conn, code: number) => console.log(conn.id, code));
  engine.on('error', (err) => console.error(err));
  engine.on('log', (line: LogEvent) => console.log(line.level, line.event, line.message, line.fields));
  const ops = new Engine({ internalListen: '127.0.0.1:9100' });
  console.log(ops.internalPort + 1);
  const { port } = await engine.listen();
  console.log(port, engine.nodeId);
  engine.sendToUser('alice', { type: 'notice', text: 'hi' });
  engine.sendToUser('alice', '{"type":"notice"}');
  engine.sendMessageToUser('alice', 'hello', { from: '' });
  engine.broadcastMessage('lobby', { any: ['json', 1] });
  engine.sendMessageToConnection('4294967296', 42, { sender: 'bot' });
  engine.on('message:save', async (conn, msg, id) => {
    if (id === undefined) return;
    if (typeof id === 'number' && id < 0) throw new MessageError('invalid_field', 'negative id');
    conn.sendMessage({ saved: msg.type }, { from: 'server' });
    conn.send({ type: 'saved', id });
  });
  engine.sendToConnection('4294967296', { type: 'x' });
  engine.disconnectUser('alice', 4000);
  const s: Stats = engine.stats();
  console.log(s.connections + s.messagesOut);
  try {
    engine.join('1', '');
  } catch (err) {
    if (err instanceof RtcoreError) console.log(err.code);
  }
  const secured = new Engine({
    authMode: 'jwt-hs256',
    jwtSecret: Buffer.from('s3cret'),
    jwtLeewaySeconds: 30,
    jwtAudience: 'chat',
    allowedOrigins: ['https://app.example.com'],
    rateLimit: { perSecond: 100, burst: 200 },
    maxConnections: 10000,
    maxConnectionsPerUser: 5,
    handshakeTimeout: 5000,
    idleTimeout: 0,
    exposeStats: false,
    tlsCertFile: '/etc/rtcore/cert.pem',
    tlsKeyFile: '/etc/rtcore/key.pem',
    redisPrefix: 'app:',
    nodeTtl: 15000,
    redisBufferBytes: 8 << 20,
  });
  console.log(secured.url, defaults.rateLimitBurst + s.authFailures + s.backplaneDropped + s.forbidden);
  new Engine({ rateLimit: false, jwtSecret: 'text' });
  // @ts-expect-error authMode is 'none' or 'jwt-hs256'
  new Engine({ authMode: 'basic' });
  // @ts-expect-error rateLimit needs perSecond
  new Engine({ rateLimit: { burst: 10 } });
  // @ts-expect-error presence listeners get one event object
  engine.on('presence', (a: string, b: string) => console.log(a, b));
  // @ts-expect-error an authorization hook answers a boolean
  engine.onAuthorize(async () => 'yes');
  // @ts-expect-error there is no 'leave_room' action to authorize
  engine.onAuthorize((conn, action) => action === 'leave_room');
  // @ts-expect-error ports are numbers
  new Engine({ port: '3000' });
  const members: { users: string[]; truncated: boolean } = await engine.roomMembers('r', { limit: 10 });
  const online: Record<string, boolean> = await engine.isOnline(['alice']);
  console.log(members.users.length, online.alice);
  // @ts-expect-error isOnline takes an array of user ids
  await engine.isOnline('alice');
  const past: History = await engine.history('r', { limit: 10, before: 42 });
  const first: HistoryMessage | undefined = past.messages[0];
  console.log(past.epoch.length, past.offset, first?.offset, first?.from, first?.timestamp);
  await engine.history('r');
  // @ts-expect-error before is an offset number
  await engine.history('r', { before: '42' });
  await engine.close({ timeout: 500 });
}

void main;

// One port with the host's HTTP server (engine.attach, engine.handleUpgrade).
import * as http from 'node:http';
function onePort(engine: Engine): void {
  const server = http.createServer();
  const attached = engine.attach(server, { path: '/realtime' });
  console.log(attached.path);
  attached.close();
  server.on('upgrade', (req, socket, head) => engine.handleUpgrade(req, socket, head));
  // @ts-expect-error path is a string
  engine.attach(server, { path: 1 });
}
void onePort;
