// Types for rtcore's Node host (checked by `tsc --noEmit` in the tests).
import { EventEmitter } from 'node:events';

export declare const version: string;
/** The media type of Engine.metrics() (Prometheus text exposition 0.0.4). */
export declare const METRICS_CONTENT_TYPE: string;

/** Engine options; durations are milliseconds. */
export interface EngineOptions {
  port?: number;
  host?: string;
  /** redis://[user:password@]host[:port][/db] or unix:///path: nodes sharing it act as one. */
  redisUrl?: string;
  redisPrefix?: string;
  redisConnectTimeout?: number;
  redisBufferBytes?: number;
  /** ms: a join_room id that Redis has not confirmed by then is answered `unavailable` (the join stays). Default 3000. */
  joinTimeout?: number;
  /** Alias of joinTimeout. */
  joinTimeoutMs?: number;
  /** Messages kept per room and per user's direct messages; 0 = history off (default). */
  historySize?: number;
  /** ms (rounded up to whole seconds) a kept message lives; default 300000. */
  historyTtl?: number;
  /** Format of the lines the engine writes to stderr itself (without a 'log' listener). */
  logFormat?: 'text' | 'json';
  /** Most users one presence answer (client `presence` query, roomMembers without limit) lists; beyond, it is truncated. Default 1000. */
  presenceLimit?: number;
  nodeTtl?: number;
  nodeId?: string;
  pingInterval?: number;
  pingTimeout?: number;
  maxMessageSize?: number;
  maxSendQueueBytes?: number;
  maxRoomsPerConnection?: number;
  allowPostWithoutJoin?: boolean;
  logLevel?: 0 | 1 | 2 | 3;
  /** Grace for clients to close on close(), default 1000. */
  shutdownTimeout?: number;

  // Protections (the engine's SECURITY.md). Defaults: `defaults`.
  /** 'jwt-hs256': every upgrade needs an HS256 JWT (?token=, Authorization: Bearer,
   * or subprotocol "bearer.JWT") whose sub is the user id; refusals are HTTP 401. */
  authMode?: AuthMode;
  /** Alias of authMode. */
  auth?: AuthMode;
  /** The HMAC secret; required with 'jwt-hs256'. Never shown in inspect output or errors. */
  jwtSecret?: string | Buffer | Uint8Array;
  /** Tolerance on exp and nbf, ms (whole seconds are used; default 30000). */
  jwtLeeway?: number;
  /** jwtLeeway in seconds (default 30). */
  jwtLeewaySeconds?: number;
  /** When set, the token's aud must equal it. */
  jwtAudience?: string;
  /** When set, the token's iss must equal it. */
  jwtIssuer?: string;
  /** Browser origins allowed to connect (exact match); others get HTTP 403. Empty: any. */
  allowedOrigins?: string | string[];
  /** Per-connection token bucket; 0/false disables. Without burst: 2 × perSecond. */
  rateLimit?: RateLimit | 0 | false;
  /** Flat form of rateLimit (excludes it). */
  rateLimitPerSecond?: number;
  rateLimitBurst?: number;
  /** Connections on this node (HTTP 503 beyond); 0 = unlimited. */
  maxConnections?: number;
  /** Connections per user on this node (HTTP 429 beyond); 0 = unlimited. */
  maxConnectionsPerUser?: number;
  /** HTTP request + upgrade deadline, ms (whole seconds are used). */
  handshakeTimeout?: number;
  /** Close (1000) a connection that sends nothing for this long, ms; 0 = off (default). */
  idleTimeout?: number;
  /** Answer GET /stats with the counters as JSON (default false). */
  exposeStats?: boolean;
  /** "HOST:PORT": a second, plain-HTTP listener for /metrics, /readyz, /stats, /healthz (PORT 0: a free one). */
  internalListen?: string;
  /**
   * @deprecated A listening engine keeps the process alive like a
   * net.Server by default; use unref()/ref(). `true` is the default,
   * `false` starts the engine unref()d.
   */
  keepAlive?: boolean;
  /** wss://: PEM certificate (chain) file; needs tlsKeyFile. See README: TLS in Node. */
  tlsCertFile?: string;
  /** wss://: PEM private key file; needs tlsCertFile. */
  tlsKeyFile?: string;
}

export type AuthMode = 'none' | 'jwt-hs256';

export interface RateLimit {
  /** Messages per second per connection; beyond, error rate_limited (100 refusals in 10 s close with 1008). */
  perSecond: number;
  /** Bucket size; default 2 × perSecond. */
  burst?: number;
}

/** The C library's defaults (rtc_config_init), durations in ms. */
export interface Defaults {
  readonly port: number;
  readonly maxMessageSize: number;
  readonly maxSendQueueBytes: number;
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly maxRoomsPerConnection: number;
  readonly allowPostWithoutJoin: boolean;
  readonly logLevel: number;
  readonly nodeTtl: number;
  readonly redisConnectTimeout: number;
  readonly redisBufferBytes: number;
  readonly joinTimeout: number;
  readonly joinTimeoutMs: number;
  readonly historySize: number;
  readonly historyTtl: number;
  readonly logFormat: 'text' | 'json';
  readonly jwtLeeway: number;
  readonly presenceLimit: number;
  readonly authMode: AuthMode;
  readonly jwtLeewaySeconds: number;
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerUser: number;
  readonly handshakeTimeout: number;
  readonly idleTimeout: number;
  readonly exposeStats: boolean;
  /** A row added to the settings table after these types were written. */
  readonly [option: string]: string | number | boolean | null;
}

export declare const defaults: Defaults;

/** One row of the C library's settings table as this binding takes it. */
export interface OptionInfo {
  readonly name: string;
  /** The rtc_config field. */
  readonly field: string;
  readonly kind: 'string' | 'bool' | 'enum' | 'int';
  /** Bounds of the field's value (jsMin/jsMax: of the option's, in ms for seconds fields). */
  readonly min: number;
  readonly max: number;
  readonly jsMin?: number;
  readonly jsMax?: number;
  /** ms per field unit (1000 for a field in seconds), else 1. */
  readonly scale: number;
  readonly choices?: readonly string[];
  readonly default: string | number | boolean | null;
  readonly help: string;
  /** rtcore-server's flag. */
  readonly flag: string;
}
/** Every option from the settings table, by name. */
export declare const optionTable: Readonly<Record<string, OptionInfo>>;
/** The counters' table: rtc_stats field name, its key in stats(), counter or gauge. */
export declare const statsFields: ReadonlyArray<{ readonly name: string; readonly key: string; readonly kind: string; readonly help: string }>;

export interface ConnectRequest {
  /** Opaque id of this upgrade request. */
  id: string;
  userId: string;
  params: { userId: string };
  path: string;
  /** Raw query string, without '?'. */
  query: string;
  searchParams: URLSearchParams;
  /** Lower-case names; only the headers the engine passes (see rtcore.h). */
  headers: Record<string, string>;
}

/** A user id to accept as, true/undefined for the path's user, false for 403. */
export type ConnectResult = string | boolean | undefined | void;

/** The built-in actions an onAuthorize hook decides on. */
export type AuthorizeAction = 'join_room' | 'room_message' | 'direct_message' | 'presence' | 'online';

/**
 * May conn do action on target? target is the room (join_room, room_message,
 * presence), the recipient's user id (direct_message), or '' (online). true lets the message take
 * effect; false (or a throw/rejection, reported) answers error forbidden.
 */
export type AuthorizeHook = (conn: Connection, action: AuthorizeAction, target: string) => boolean | Promise<boolean>;

export interface RoomMembers {
  users: string[];
  truncated: boolean;
}

/** A stored room message as history returns it (the `message` frame clients got). */
export interface HistoryMessage {
  type: 'message';
  room: string;
  /** The sender's user id, or the host's `from` ('' for "the server"). */
  from: string;
  content: JsonValue;
  /** RFC 3339 UTC with milliseconds. */
  timestamp: string;
  offset: number;
}

export interface HistoryOptions {
  /** Most messages returned, the newest ones (default 50; at most 1000 and at most historySize are returned). */
  limit?: number;
  /** Only messages with an offset below this one (1..2^53; default: no bound). */
  before?: number;
}

export interface History {
  /** The room's epoch: offsets of another epoch mean nothing in this one. */
  epoch: string;
  /** The room's current offset (0 before any message in this epoch). */
  offset: number;
  /** Oldest first. */
  messages: HistoryMessage[];
}

export interface SendOptions {
  /** With `from` the message is content wrapped in a direct_message / message envelope. */
  from?: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ClientMessage {
  type: string;
  id?: string | number;
  [field: string]: unknown;
}

export interface PresenceEvent {
  userId: string;
  status: 'online' | 'offline';
  /** RFC 3339 UTC with milliseconds. */
  timestamp: string;
}

export interface Stats {
  connections: number;
  users: number;
  rooms: number;
  messagesIn: number;
  messagesOut: number;
  bytesOut: number;
  drops: number;
  errorsSent: number;
  connectionsTotal: number;
  rejectedUpgrades: number;
  slowConsumerCloses: number;
  oversizeCloses: number;
  /** Backplane: all 0 with the in-process one, except backplaneConnected = 1. */
  backplaneConnected: number;
  backplaneReconnects: number;
  backplaneBufferedBytes: number;
  backplaneDropped: number;
  backplaneInvalid: number;
  backplanePublished: number;
  backplaneReceived: number;
  /** Protections: upgrades refused with 401 / 403 (origin) / 503 / 429, messages refused, closes. */
  authFailures: number;
  originRefusals: number;
  connectionLimitRefusals: number;
  userLimitRefusals: number;
  rateLimited: number;
  rateLimitCloses: number;
  idleCloses: number;
  forbidden: number;
  /** Exceptions caught at a C library callback (the engine kept running). */
  internalErrors: number;
  /** Bytes waiting in send queues (sampled every second). */
  queuedBytes: number;
  /** Times this node found the cluster had declared it dead and re-registered. */
  backplaneFenced: number;
  /** A row of the counters' table added after these types were written (statsFields). */
  [counter: string]: number;
}

export type ConnectionRef = Connection | string;

export declare class Connection {
  /** Decimal string: connection ids are 64-bit. */
  readonly id: string;
  readonly userId: string;
  readonly engine: Engine;
  send(message: object, options?: SendOptions): void;
  send(content: unknown, options: SendOptions & { from: string }): void;
  join(room: string): void;
  leave(room: string): void;
  sendError(code: string, message?: string, id?: string | number): void;
  disconnect(code?: number): void;
  toJSON(): { id: string; userId: string };
}

export declare class RtcoreError extends Error {
  /** "RTC_EINVAL", "RTC_ESTATE", "RTC_ELISTEN", "RTC_ETLS", "RTC_ENOTSUP", "RTC_ETOOBIG", ... */
  readonly code: string;
  constructor(code: string, message: string);
}

export declare class Reject extends Error {
  readonly status: number;
  constructor(status?: number, message?: string);
}

export type MessageListener = (conn: Connection, msg: ClientMessage) => void | Promise<void>;

/** One engine log line (tokens, secrets and query strings never appear). */
export interface LogEvent {
  level: 'error' | 'warn' | 'info' | 'debug';
  /** Short snake_case name, e.g. "upgrade_refused", "lws". */
  event: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface EngineEvents {
  open: [conn: Connection];
  /** With a listener, the engine's log lines (at logLevel or below) come here instead of stderr. */
  log: [event: LogEvent];
  disconnect: [conn: Connection, code: number];
  presence: [event: PresenceEvent];
  message: [conn: Connection, msg: ClientMessage];
  error: [error: unknown];
  close: [];
}

export declare class Engine extends EventEmitter {
  constructor(options?: EngineOptions);
  onConnect(hook: (req: ConnectRequest) => ConnectResult | Promise<ConnectResult>): this;
  /** Authorization hook for join_room, room_message and direct_message (before listen()). */
  onAuthorize(hook: AuthorizeHook): this;
  listen(): Promise<{ host: string; port: number }>;
  close(options?: { timeout?: number }): Promise<void>;
  address(): { host: string; port: number };
  /** ws://host:port, or wss:// with tlsCertFile/tlsKeyFile. */
  readonly url: string;
  readonly port: number;
  /** The internal listener's port (internalListen), 0 without one. */
  readonly internalPort: number;
  readonly nodeId: string | null;
  readonly listening: boolean;
  /** As on net.Server: a listening engine keeps the process alive (the default). */
  ref(): this;
  /** As on net.Server: a listening engine no longer keeps the process alive. */
  unref(): this;

  sendToUser(userId: string, message: object, options?: SendOptions): void;
  sendToUser(userId: string, content: unknown, options: SendOptions & { from: string }): void;
  sendToConnection(conn: ConnectionRef, message: object, options?: SendOptions): void;
  sendToConnection(conn: ConnectionRef, content: unknown, options: SendOptions & { from: string }): void;
  broadcast(room: string, message: object, options?: SendOptions): void;
  broadcast(room: string, content: unknown, options: SendOptions & { from: string }): void;
  join(conn: ConnectionRef, room: string): void;
  leave(conn: ConnectionRef, room: string): void;
  sendError(conn: ConnectionRef, code: string, message?: string, id?: string | number): void;
  disconnect(conn: ConnectionRef, code?: number): void;
  disconnectUser(userId: string, code?: number): void;
  /** The distinct users with a connection in room on any node (at most limit, default presenceLimit); truncated when there were more. Rejects with RTC_EUNAVAILABLE when Redis cannot answer. */
  roomMembers(room: string, options?: { limit?: number }): Promise<RoomMembers>;
  /** Whether each user (1..1000 ids) has a connection on any node. */
  isOnline(users: string[]): Promise<Record<string, boolean>>;
  /** The room's stored messages, newest `limit` below `before`, oldest first. Rejects with RTC_ENOTSUP when the engine runs without history (historySize 0), RTC_EUNAVAILABLE when the history cannot be read, RTC_EINVAL for a bad argument. */
  history(room: string, options?: HistoryOptions): Promise<History>;
  stats(): Stats;
  /** Every counter, gauge and histogram in the Prometheus text format (GET /metrics). */
  metrics(): string;

  on<K extends keyof EngineEvents>(event: K, listener: (...args: EngineEvents[K]) => void | Promise<void>): this;
  on(event: `message:${string}`, listener: MessageListener): this;
  once<K extends keyof EngineEvents>(event: K, listener: (...args: EngineEvents[K]) => void | Promise<void>): this;
  once(event: `message:${string}`, listener: MessageListener): this;
  off<K extends keyof EngineEvents>(event: K, listener: (...args: EngineEvents[K]) => void | Promise<void>): this;
  off(event: `message:${string}`, listener: MessageListener): this;
}

declare const rtcore: {
  Engine: typeof Engine;
  Connection: typeof Connection;
  Reject: typeof Reject;
  RtcoreError: typeof RtcoreError;
  version: string;
  defaults: Defaults;
  optionTable: typeof optionTable;
  statsFields: typeof statsFields;
};
export default rtcore;
