// The demo chat page: plain DOM code on top of rtcore-client. Rooms with
// history, direct messages, members with online dots, unread counts and a
// connection indicator. ?node=N puts node N (1-based) first in the list;
// ?user=NAME logs in at once; ?minDelay=MS sets the first reconnect delay.
import { connect } from '/rtcore-client.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const DEFAULT_ROOMS = ['lobby', 'random'];

const convs = new Map(); // key ('room:NAME' | 'dm:USER') -> {key, kind, name, messages: [], unread, seen: Set}
const members = new Map(); // room -> Map(user -> present?)
const online = new Map(); // user -> boolean
let client = null;
let me = null;
let active = null;

function conv(kind, name) {
  const key = `${kind}:${name}`;
  if (!convs.has(key)) convs.set(key, { key, kind, name, messages: [], unread: 0, seen: new Set() });
  return convs.get(key);
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

function text(content) {
  if (typeof content === 'string') return content;
  if (content && typeof content.text === 'string') return content.text;
  return JSON.stringify(content);
}

// Adds a message to a conversation once: by offset when the server keeps
// history, so a message seen live and again in a history read shows once.
function addMessage(c, m) {
  if (typeof m.offset === 'number') {
    if (c.seen.has(m.offset)) return;
    c.seen.add(m.offset);
  }
  c.messages.push(m);
  if (typeof m.offset === 'number') c.messages.sort((x, y) => (x.offset ?? 1e15) - (y.offset ?? 1e15));
  if (c !== active && m.from !== me) c.unread++;
  render();
}

function renderList(ul, kind) {
  ul.replaceChildren(
    ...[...convs.values()]
      .filter((c) => c.kind === kind)
      .map((c) => {
        const li = el('li', { 'data-conv': c.key, class: [c === active ? 'active' : '', online.get(c.name) ? 'online' : ''].join(' ').trim() });
        if (kind === 'dm') li.append(el('span', { class: 'dot' }));
        li.append(el('span', { class: 'name', textContent: kind === 'room' ? `# ${c.name}` : c.name }),
          el('span', { class: 'unread', textContent: c.unread ? String(c.unread) : '' }));
        li.onclick = () => open(c);
        return li;
      }),
  );
}

function render() {
  renderList($('rooms'), 'room');
  renderList($('dms'), 'dm');
  if (!active) return;
  $('title').textContent = active.kind === 'room' ? `# ${active.name}` : `@ ${active.name}`;
  const list = $('messages');
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  list.replaceChildren(
    ...active.messages.map((m) =>
      el('li', { class: `msg${m.from === me ? ' mine' : ''}`, 'data-from': m.from, 'data-offset': m.offset ?? '' },
        el('span', { class: 'from', textContent: m.from }),
        el('span', { class: 'text', textContent: text(m.content) }),
        el('time', { textContent: (m.timestamp || '').slice(11, 16) }))),
  );
  if (atBottom) list.scrollTop = list.scrollHeight;
  const panel = $('members');
  if (active.kind === 'room') {
    const users = [...(members.get(active.name) || new Map())].sort(([a], [b]) => a.localeCompare(b));
    panel.replaceChildren(...users.map(([u, here]) =>
      el('li', { 'data-user': u, class: here ? 'online' : '' }, el('span', { class: 'dot' }), el('span', { textContent: u === me ? `${u} (you)` : u }))));
  } else {
    panel.replaceChildren(el('li', { 'data-user': active.name, class: online.get(active.name) ? 'online' : '' },
      el('span', { class: 'dot' }), el('span', { textContent: active.name })));
  }
}

function open(c) {
  active = c;
  c.unread = 0;
  $('notice').hidden = true;
  render();
  $('text').focus();
}

function notice(msg) {
  $('notice').textContent = msg;
  $('notice').hidden = false;
}

async function loadHistory(room, c) {
  try {
    const h = await room.history({ limit: 50 });
    for (const m of h.messages) {
      if (!c.seen.has(m.offset)) {
        c.seen.add(m.offset);
        c.messages.push(m);
      }
    }
    c.messages.sort((x, y) => (x.offset ?? 1e15) - (y.offset ?? 1e15));
    render();
  } catch (err) {
    if (err.code !== 'unknown_type') console.warn('history', err);
  }
}

async function loadMembers(room) {
  try {
    const { users } = await room.members();
    const map = new Map([...(members.get(room.name) || [])].map(([u]) => [u, false]));
    for (const u of users) map.set(u, true);
    members.set(room.name, map);
    render();
  } catch (err) {
    console.warn('presence', err);
  }
}

async function refreshOnline() {
  const users = [...convs.values()].filter((c) => c.kind === 'dm').map((c) => c.name).slice(0, 100);
  if (!users.length || client.state !== 'connected') return;
  try {
    const answer = await client.online(users);
    for (const [u, on] of Object.entries(answer)) online.set(u, on);
    render();
  } catch (_) {
    /* asked again on the next change */
  }
}

function joinRoom(name) {
  const c = conv('room', name);
  const room = client.room(name, { presence: true });
  if (room.state === 'idle') {
    room.on('message', (m) => addMessage(c, m));
    room.on('user_joined', (e) => { members.get(name)?.set(e.user, true) ?? members.set(name, new Map([[e.user, true]])); online.set(e.user, true); render(); });
    room.on('user_left', (e) => { members.get(name)?.set(e.user, false); refreshOnline(); render(); });
    room.on('joined', () => loadMembers(room)); // after every (re)join
    room.on('reset', () => {
      // History was lost (new epoch): reload what the server still has.
      c.messages = [];
      c.seen.clear();
      loadHistory(room, c);
      if (c === active) notice('Some messages could not be recovered; reloaded the room.');
    });
    room.join().then(() => loadHistory(room, c), (err) => notice(`Cannot join ${name}: ${err.message}`));
  }
  return c;
}

function start(name, config) {
  me = name;
  const order = [...config.nodes];
  const first = Number(params.get('node') || 1) - 1;
  if (first > 0 && first < order.length) order.unshift(...order.splice(first, 1));
  const options = { userId: name, minDelay: Number(params.get('minDelay') || 500), maxDelay: 5000 };
  if (config.auth) {
    options.getToken = async () => {
      const res = await fetch(`/token?user=${encodeURIComponent(name)}`);
      if (!res.ok) throw new Error(`token: HTTP ${res.status}`);
      return (await res.json()).token;
    };
  }
  client = connect(order, options);
  window.demo = { client, convs, members };
  const status = $('status');
  client.on('state', (state, info) => {
    status.dataset.state = state;
    const node = client.url ? new URL(client.url).host : '';
    status.querySelector('b').textContent =
      state === 'connected' ? `connected to ${node}` : state === 'disconnected' ? 'reconnecting...' : state;
    if (state === 'connected') refreshOnline();
    if (state === 'closed' && info.code) notice(`Disconnected for good (${info.code}). Reload the page.`);
  });
  client.on('direct', (m) => addMessage(conv('dm', m.from), m));
  client.on('user_joined', () => refreshOnline());
  $('me').textContent = name;
  for (const r of DEFAULT_ROOMS) joinRoom(r);
  open(conv('room', DEFAULT_ROOMS[0]));
  setInterval(refreshOnline, 15000);
}

$('login').onsubmit = async (ev) => {
  ev.preventDefault();
  const name = $('name').value.trim();
  if (!name) return;
  try {
    const config = await (await fetch('/config')).json();
    $('login').hidden = true;
    $('app').hidden = false;
    start(name, config);
  } catch (err) {
    $('login-error').textContent = `Cannot start: ${err.message}`;
    $('login-error').hidden = false;
  }
};

$('composer').onsubmit = async (ev) => {
  ev.preventDefault();
  const input = $('text');
  const value = input.value.trim();
  if (!value || !active) return;
  input.value = '';
  const c = active;
  try {
    if (c.kind === 'room') await client.room(c.name).send({ text: value });
    else {
      await client.sendDirect(c.name, { text: value });
      // The server does not echo a DM to its sender: show it once acked.
      addMessage(c, { from: me, content: { text: value }, timestamp: new Date().toISOString() });
    }
  } catch (err) {
    notice(`Not sent (${err.code}): ${value}`);
  }
};

$('add-room').onsubmit = (ev) => {
  ev.preventDefault();
  const name = $('room-name').value.trim();
  $('room-name').value = '';
  if (name) open(joinRoom(name));
};

$('add-dm').onsubmit = (ev) => {
  ev.preventDefault();
  const name = $('dm-name').value.trim();
  $('dm-name').value = '';
  if (name && name !== me) {
    open(conv('dm', name));
    refreshOnline();
  }
};

// Clicking a member opens a DM with them.
$('members').onclick = (ev) => {
  const li = ev.target.closest('li[data-user]');
  const user = li && li.dataset.user;
  if (user && user !== me) {
    open(conv('dm', user));
    refreshOnline();
  }
};

if (params.get('user')) {
  $('name').value = params.get('user');
  $('login').requestSubmit();
}
