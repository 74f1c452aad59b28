// Types for rtcore-client (hand-written; the source is src/index.js).

export type State = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/** A WebSocket constructor: the browser's, Node's global one, or the `ws` package. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface ConnectOptions {
  /** Put in the path: /ws/{userId} (percent-encoded). Without it, /ws and the token's sub. */
  userId?: string;
  /** A fixed token (JWT), sent as ?token= (or subprotocol bearer.TOKEN). */
  token?: string;
  /** Called before every connection attempt (so short-lived tokens stay fresh). */
  getToken?: () => string | Promise<string>;
  /** 'query' (default, ?token=) or 'subprotocol' (rtcore.v1, bearer.TOKEN: tokens up to 108 bytes). */
  tokenTransport?: 'query' | 'subprotocol';
  /** Defaults to globalThis.WebSocket. In Node 20 pass require('ws'). */
  WebSocket?: WebSocketConstructor;
  /** false: no reconnection at all. */
  reconnect?: boolean;
  /** First reconnect delay in ms (default 250); doubles (factor) up to maxDelay (default 10000); each delay is jittered to [d/2, d]. */
  minDelay?: number;
  maxDelay?: number;
  factor?: number;
  /** A connection that lasted this long (ms, default 5000) restarts the backoff at minDelay. */
  stableAfter?: number;
  /** Close codes after which the client does not reconnect (default [1008, 4401, 4403]). */
  noReconnectCodes?: number[];
  /** ms an opening socket may take (default 10000). */
  connectTimeout?: number;
  /** Requests held while disconnected (default 100); one more rejects with code 'queue_full'. */
  maxQueue?: number;
  /** Resume direct messages on every connection with resume_direct (default true; off by itself when the server has no history). */
  resumeDirect?: boolean;
}

export interface Position {
  epoch: string;
  offset: number;
}

export interface RoomMessage {
  type: 'message';
  room: string;
  from: string;
  content: unknown;
  timestamp: string;
  /** Present when the server keeps history (docs/protocol.md section 8). */
  offset?: number;
}

export interface DirectMessage {
  type: 'direct_message';
  from: string;
  content: unknown;
  timestamp: string;
  offset?: number;
}

export interface PresenceEvent {
  type: 'user_joined' | 'user_left';
  room: string;
  user: string;
  timestamp: string;
}

export interface JoinInfo {
  room: string;
  /** true/false after a rejoin with a position; undefined for a first join. */
  recovered?: boolean;
  epoch?: string;
  offset?: number;
}

export interface RecoveryInfo {
  room?: string;
  direct?: boolean;
  recovered: boolean;
  epoch?: string;
  offset?: number;
}

export interface StateInfo {
  url?: string;
  attempt?: number;
  code?: number;
  reason?: string;
  willReconnect?: boolean;
  /** ms until the next attempt ('disconnected'). */
  delay?: number;
}

export interface Ack {
  type: 'ack';
  id: number;
  [field: string]: unknown;
}

export class RtcoreClientError extends Error {
  /** A server error code (not_in_room, forbidden, unavailable, ...) or one of the client's: queue_full, disconnected, closed, left, token, connect. */
  code: string;
  /** The server's error frame, when there was one. */
  frame?: { type: 'error'; code: string; message: string; id?: number | string; [k: string]: unknown };
  /** Set on 'disconnected': the request may have reached the server. */
  maybeDelivered?: boolean;
}

type Listener<A extends unknown[]> = (...args: A) => void;

export interface RoomEvents {
  message: [RoomMessage];
  joined: [JoinInfo];
  /** recovered: true after a rejoin that replayed what was missed. */
  recovered: [JoinInfo];
  /** recovered: false: history was lost or trimmed; reload the room (e.g. room.history()). */
  reset: [JoinInfo];
  user_joined: [PresenceEvent];
  user_left: [PresenceEvent];
  error: [RtcoreClientError];
}

export class Room {
  readonly client: Client;
  readonly name: string;
  presence: boolean;
  readonly state: 'idle' | 'joining' | 'joined' | 'left';
  readonly position: Position | null;
  /** Joins; after every reconnect the client rejoins by itself (with since). */
  join(options?: { presence?: boolean }): Promise<JoinInfo>;
  leave(): Promise<void>;
  /** Resolves with the ack; rejects with the server's error (or queue_full, disconnected, closed). */
  send(content: unknown): Promise<Ack>;
  members(): Promise<{ users: string[]; truncated: boolean }>;
  history(options?: { limit?: number; before?: number }): Promise<{ epoch: string; messages: RoomMessage[] }>;
  on<E extends keyof RoomEvents>(event: E, fn: Listener<RoomEvents[E]>): this;
  once<E extends keyof RoomEvents>(event: E, fn: Listener<RoomEvents[E]>): this;
  off<E extends keyof RoomEvents>(event: E, fn: Listener<RoomEvents[E]>): this;
}

export interface ClientEvents {
  state: [State, StateInfo];
  connecting: [StateInfo];
  connected: [StateInfo];
  disconnected: [StateInfo];
  /** For good: close(), a go-away close code, or reconnect: false. */
  closed: [StateInfo];
  /** Every room message (also emitted on its Room). */
  message: [RoomMessage];
  direct: [DirectMessage];
  recovered: [RecoveryInfo];
  direct_reset: [RecoveryInfo];
  user_joined: [PresenceEvent];
  user_left: [PresenceEvent];
  /** A frame of the host's own shape. */
  frame: [Record<string, unknown>];
  error: [RtcoreClientError];
}

export class Client {
  readonly urls: string[];
  readonly userId: string | null;
  readonly state: State;
  /** The node URL of the current (or last) socket. */
  readonly url: string | null;
  readonly rooms: Room[];
  readonly directPosition: Position | null;
  room(name: string, options?: { presence?: boolean }): Room;
  sendDirect(user: string, content: unknown): Promise<Ack>;
  presence(room: string): Promise<{ users: string[]; truncated: boolean }>;
  online(users: string[]): Promise<Record<string, boolean>>;
  /** Any frame (e.g. a host-defined type); resolves with the answer carrying its id. */
  request(frame: { type: string; [k: string]: unknown }): Promise<Record<string, unknown>>;
  close(): void;
  on<E extends keyof ClientEvents>(event: E, fn: Listener<ClientEvents[E]>): this;
  once<E extends keyof ClientEvents>(event: E, fn: Listener<ClientEvents[E]>): this;
  off<E extends keyof ClientEvents>(event: E, fn: Listener<ClientEvents[E]>): this;
}

/** Opens a client on one node URL or several (tried in turn on reconnect). */
export function connect(urls: string | string[], options: ConnectOptions): Client;

export function buildUrl(base: string, userId: string | null, token?: string, transport?: 'query' | 'subprotocol'): string;
