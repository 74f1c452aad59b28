// Compiles only if index.d.ts describes the documented usage.
import { connect, RtcoreClientError, type RoomMessage } from 'rtcore-client';

declare const WS: any;
const client = connect(['ws://127.0.0.1:8081', 'ws://127.0.0.1:8082'], {
  userId: 'alice',
  getToken: async () => 'jwt',
  WebSocket: WS,
  maxQueue: 50,
});
client.on('state', (s, info) => console.log(s, info.willReconnect));
client.on('direct', (m) => console.log(m.from, m.content, m.offset));
const lobby = client.room('lobby', { presence: true });
lobby.on('message', (m: RoomMessage) => console.log(m.room, m.offset));
lobby.on('reset', (info) => lobby.history({ limit: 50 }).then((h) => h.messages.length + (info.offset ?? 0)));
lobby.on('user_joined', (e) => console.log(e.user));
async function main(): Promise<void> {
  await lobby.join();
  const ack = await lobby.send({ text: 'hi' });
  console.log(ack.id);
  const who: string[] = (await lobby.members()).users;
  const online: Record<string, boolean> = await client.online(who);
  console.log(online);
  try {
    await client.sendDirect('bob', 'psst');
  } catch (e) {
    if (e instanceof RtcoreClientError && e.code === 'queue_full') console.log('later');
  }
  client.close();
}
void main();
