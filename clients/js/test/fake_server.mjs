// A minimal stand-in for a history-enabled rtcore node (docs/protocol.md
// section 8, as agreed), for testing the client's stream bookkeeping where
// the real server cannot be made to misbehave on cue: duplicated frames at
// the seam, gaps, an epoch change. Rooms only, plus resume_direct.
import { WebSocketServer } from 'ws';

export async function startFake() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const fake = {
    wss,
    url: `ws://127.0.0.1:${wss.address().port}`,
    epoch: 'e1',
    rooms: new Map(), // room -> [{frame}] (offset = index + 1)
    sockets: new Set(),
    // Hooks a test may set: (ws, frame) => frames to send instead.
    onJoin: null,
    log: [],
    stream(room) {
      if (!this.rooms.has(room)) this.rooms.set(room, []);
      return this.rooms.get(room);
    },
    publish(room, from, content) {
      const s = this.stream(room);
      const frame = { type: 'message', room, from, content, timestamp: new Date().toISOString(), offset: s.length + 1 };
      s.push(frame);
      for (const ws of this.sockets) if (ws.rooms.has(room)) ws.send(JSON.stringify(frame));
      return frame;
    },
    dropAll() {
      for (const ws of this.sockets) ws.terminate();
    },
    close() {
      this.dropAll();
      return new Promise((r) => wss.close(r));
    },
  };
  wss.on('connection', (ws, req) => {
    ws.user = decodeURIComponent(req.url.split('?')[0].split('/').pop());
    ws.rooms = new Set();
    fake.sockets.add(ws);
    ws.on('close', () => fake.sockets.delete(ws));
    ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      fake.log.push(f);
      const send = (o) => ws.send(JSON.stringify(o));
      if (f.type === 'join_room') {
        const s = fake.stream(f.room);
        ws.rooms.add(f.room);
        if (fake.onJoin && fake.onJoin(ws, f, s)) return;
        let recovered;
        if (f.since) {
          recovered = f.since.epoch === fake.epoch && f.since.offset <= s.length;
          if (recovered) for (const m of s.slice(f.since.offset)) send(m);
        }
        send({ type: 'ack', id: f.id, epoch: fake.epoch, offset: s.length, ...(f.since ? { recovered } : {}) });
      } else if (f.type === 'room_message') {
        fake.publish(f.room, ws.user, f.content);
        send({ type: 'ack', id: f.id });
      } else if (f.type === 'resume_direct') {
        send({ type: 'ack', id: f.id, epoch: 'd1', offset: 0, ...(f.since ? { recovered: true } : {}) });
      } else if (f.type === 'history') {
        send({ type: 'history', id: f.id, room: f.room, epoch: fake.epoch, messages: fake.stream(f.room).slice(-(f.limit || 50)) });
      } else send({ type: 'ack', id: f.id });
    });
  });
  return fake;
}
