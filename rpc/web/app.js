// btd's page: plain JavaScript, same origin only. Every text from btd is set with textContent,
// never parsed as HTML (a torrent may be named "<script>").
'use strict';

const page = {
  csrf: '',
  scope: '',
  torrents: new Map(),  // id -> summary (torrent.list), patched by `stats` events
  rows: new Map(),      // id -> <tr>
  detailId: null,
  events: null,
  refreshQueued: false,
  retryTimer: null,
};
const $ = (id) => document.getElementById(id);
const PRIORITIES = [[0, 'skip'], [1, 'low'], [4, 'normal'], [7, 'high']];

// -- formatting ---------------------------------------------------------------------------------
function bytes(n) {
  if (!(n > 0)) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}
function rate(n) { return n > 0 ? bytes(n) + '/s' : '–'; }
function eta(s) {
  if (s === undefined || s < 0) return '∞';
  if (s === 0) return '–';
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + m + 'm';
  return m ? m + 'm ' + (s % 60) + 's' : s + 's';
}
function percent(p) { return (Math.floor((p || 0) * 1000) / 10).toFixed(1) + ' %'; }
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// -- messages -----------------------------------------------------------------------------------
function showBanner(text) { const b = $('banner'); b.textContent = text; b.hidden = false; }
function hideBanner() { $('banner').hidden = true; }

// -- talking to btd -----------------------------------------------------------------------------
class RpcError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

async function rpc(method, params) {
  let response;
  try {
    response = await fetch('/rpc', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': page.csrf },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params || {} }),
    });
  } catch (e) {
    daemonUnreachable();
    throw new RpcError('btd is not reachable');
  }
  if (response.status === 401) { showLogin('Your login expired: log in again.'); throw new RpcError('not logged in'); }
  if (!response.ok) throw new RpcError((await response.text()).trim() || response.statusText);
  const reply = await response.json();
  if (reply.error) throw new RpcError(reply.error.message, reply.error.code);
  return reply.result;
}

async function post(path, headers) {
  return fetch(path, { method: 'POST', credentials: 'same-origin', headers: headers || {} });
}

// -- login --------------------------------------------------------------------------------------
function showLogin(message) {
  stopEvents();
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-token').focus();
}

async function login(event) {
  event.preventDefault();
  const token = $('login-token').value.trim();
  let response;
  try {
    response = await post('/login', { Authorization: 'Bearer ' + token });
  } catch (e) {
    $('login-error').textContent = 'btd is not reachable.';
    return;
  }
  if (!response.ok) {
    $('login-error').textContent = response.status === 401
      ? 'Wrong token.' : 'Login refused (' + response.status + ').';
    return;
  }
  $('login-token').value = '';
  loggedIn(await response.json());
}

async function logout() {
  await post('/logout', { 'X-CSRF-Token': page.csrf }).catch(() => null);
  page.csrf = '';
  showLogin('Logged out.');
}

function loggedIn(session) {
  page.csrf = session.csrf_token;
  page.scope = session.scope;
  document.body.classList.toggle('read-only', session.scope === 'read-only');
  $('readonly-note').hidden = session.scope !== 'read-only';
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = session.csrf_token === '';  // authentication off: nothing to log out of
  hideBanner();
  startEvents();
  refresh();
}

async function checkSession() {
  let response;
  try {
    response = await fetch('/session', { credentials: 'same-origin' });
  } catch (e) {
    daemonUnreachable();
    return;
  }
  if (response.ok) loggedIn(await response.json());
  else showLogin();
}

// -- live updates -------------------------------------------------------------------------------
function startEvents() {
  stopEvents();
  const events = new EventSource('/events');
  page.events = events;
  events.onopen = () => { hideBanner(); refresh(); };
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) {
      // Refused (e.g. btd restarted and forgot the session): find out why, a bit later.
      stopEvents();
      daemonUnreachable();
    } else {
      showBanner('btd stopped or cannot be reached: reconnecting…');
    }
  };
  for (const type of ['torrent-added', 'removed', 'state-changed', 'completed', 'error', 'reset'])
    events.addEventListener(type, queueRefresh);
  events.addEventListener('stats', (e) => applyStats(JSON.parse(e.data)));
}

function stopEvents() {
  if (page.events) page.events.close();
  page.events = null;
}

function daemonUnreachable() {
  showBanner('btd stopped or cannot be reached: retrying…');
  clearTimeout(page.retryTimer);
  page.retryTimer = setTimeout(checkSession, 3000);
}

function queueRefresh() {
  if (page.refreshQueued) return;
  page.refreshQueued = true;
  setTimeout(() => { page.refreshQueued = false; refresh(); }, 200);
}

function applyStats(stats) {
  $('totals').textContent = '↓ ' + rate(stats.download_rate) + '  ↑ ' + rate(stats.upload_rate) +
    '  ' + stats.torrents + ' torrents, ' + stats.peers + ' peers';
  for (const change of stats.changed || []) {
    const t = page.torrents.get(change.id);
    if (!t) { queueRefresh(); continue; }
    Object.assign(t, change);
    updateRow(t);
    if (change.id === page.detailId) loadDetail(change.id);
  }
  sortRows();
}

// -- the list -----------------------------------------------------------------------------------
async function refresh() {
  let list;
  try { list = await rpc('torrent.list'); } catch (e) { return; }
  page.torrents = new Map(list.map((t) => [t.id, t]));
  for (const [id, row] of page.rows) {
    if (!page.torrents.has(id)) { row.remove(); page.rows.delete(id); }
  }
  for (const t of list) updateRow(t);
  sortRows();
  if (page.detailId && !page.torrents.has(page.detailId)) closeDetail();
}

function makeRow(t) {
  const row = el('tr');
  row.dataset.id = t.id;
  for (const cls of ['name', 'state', 'progress', 'size num', 'down num', 'up num', 'peers num', 'eta num', 'labels', 'actions'])
    row.appendChild(el('td', '', cls));
  row.cells[0].addEventListener('click', () => openDetail(t.id));
  const bar = el('div', '', 'bar');
  bar.append(el('span'), el('em'));
  row.cells[2].appendChild(bar);
  const actions = row.cells[9];
  const toggle = el('button', '', 'toggle needs-write');
  toggle.addEventListener('click', () => {
    const current = page.torrents.get(t.id);
    act(current.state === 'paused' ? 'torrent.resume' : 'torrent.pause', t.id);
  });
  const verify = el('button', 'Verify', 'verify needs-write');
  verify.addEventListener('click', () => act('torrent.verify', t.id));
  const remove = el('button', 'Remove', 'remove danger needs-write');
  remove.addEventListener('click', () => confirmRemove(t.id));
  actions.append(toggle, verify, remove);
  page.rows.set(t.id, row);
  $('torrents').tBodies[0].appendChild(row);
  return row;
}

function updateRow(t) {
  const row = page.rows.get(t.id) || makeRow(t);
  row.className = 'state-' + t.state;
  const c = row.cells;
  c[0].textContent = t.name;
  c[1].textContent = t.state + (t.error ? ': ' + t.error : '');
  c[2].querySelector('span').style.width = ((t.progress || 0) * 100) + '%';
  c[2].querySelector('em').textContent = percent(t.progress);
  c[3].textContent = bytes(t.size);
  c[4].textContent = rate(t.download_rate);
  c[5].textContent = rate(t.upload_rate);
  c[6].textContent = t.peers;
  c[7].textContent = t.state === 'seeding' ? '–' : eta(t.eta);
  c[8].textContent = (t.labels || []).join(', ');
  c[9].querySelector('.toggle').textContent = t.state === 'paused' ? 'Resume' : 'Pause';
}

function sortRows() {
  const key = $('sort').value;
  const filter = $('filter').value.trim().toLowerCase();
  const list = [...page.torrents.values()];
  list.sort((a, b) => {
    const x = a[key], y = b[key];
    if (typeof x === 'string') return x.localeCompare(y);
    const descending = key !== 'eta';
    return descending ? (y || 0) - (x || 0) : (x < 0 ? Infinity : x) - (y < 0 ? Infinity : y);
  });
  const body = $('torrents').tBodies[0];
  for (const t of list) {
    const row = page.rows.get(t.id);
    if (!row) continue;
    const visible = !filter || t.name.toLowerCase().includes(filter) || t.state.includes(filter) ||
      (t.labels || []).some((l) => l.toLowerCase().includes(filter));
    row.hidden = !visible;
    body.appendChild(row);  // moves it into sorted order
  }
  $('empty').hidden = page.torrents.size !== 0;
}

async function act(method, id) {
  try { await rpc(method, { ids: [id] }); } catch (e) { showBanner(e.message); return; }
  queueRefresh();
}

function confirmRemove(id) {
  const t = page.torrents.get(id);
  const dialog = el('dialog');
  dialog.id = 'remove-dialog';
  const form = el('form');
  form.method = 'dialog';
  form.append(el('p', 'Remove "' + t.name + '" from btd?'));
  const label = el('label');
  const deleteData = el('input');
  deleteData.type = 'checkbox';
  deleteData.id = 'remove-delete-data';
  label.append(deleteData, ' also delete its downloaded files');
  const yes = el('button', 'Remove', 'danger');
  yes.value = 'remove';
  yes.id = 'remove-confirm';
  const no = el('button', 'Cancel');
  no.value = 'cancel';
  form.append(label, el('br'), yes, ' ', no);
  dialog.appendChild(form);
  document.body.appendChild(dialog);
  dialog.addEventListener('close', async () => {
    dialog.remove();
    if (dialog.returnValue !== 'remove') return;
    try {
      await rpc('torrent.remove', { ids: [id], delete_data: deleteData.checked });
    } catch (e) { showBanner(e.message); }
    queueRefresh();
  });
  dialog.showModal();
}

// -- detail view --------------------------------------------------------------------------------
function openDetail(id) {
  page.detailId = id;
  $('detail').hidden = false;
  loadDetail(id);
}
function closeDetail() { page.detailId = null; $('detail').hidden = true; }

async function loadDetail(id) {
  let d;
  try { d = await rpc('torrent.get', { id }); } catch (e) { return; }
  if (page.detailId !== id) return;
  $('detail-name').textContent = d.name;
  $('detail-summary').textContent = d.state + ', ' + percent(d.progress) + ' of ' + bytes(d.size) +
    ', ratio ' + (d.ratio || 0).toFixed(2) + ', in ' + d.download_dir + (d.comment ? ' — ' + d.comment : '');
  fillTable('detail-files', d.files.filter((f) => !f.pad).map((f) => fileRow(d, f)));
  fillTable('detail-trackers', d.trackers.map((t) => [t.url, t.state, t.message]));
  fillTable('detail-peers', d.peers.map((p) => [p.address, p.client, percent(p.progress), rate(p.download_rate), rate(p.upload_rate)]));
}

function fileRow(d, f) {
  const index = d.files.indexOf(f);
  const select = el('select', '', 'priority');
  select.dataset.index = index;
  select.disabled = page.scope === 'read-only';
  for (const [value, name] of PRIORITIES) {
    const option = el('option', name);
    option.value = value;
    if (value === f.priority || (name === 'normal' && ![0, 1, 7].includes(f.priority) && f.priority > 1)) option.selected = true;
    select.appendChild(option);
  }
  select.addEventListener('change', async () => {
    const priorities = {};
    priorities[index] = Number(select.value);
    try { await rpc('torrent.set', { ids: [d.id], file_priorities: priorities }); } catch (e) { showBanner(e.message); }
    loadDetail(d.id);
  });
  return [f.path, bytes(f.size), percent(f.progress), select];
}

function fillTable(id, rows) {
  const body = $(id).tBodies[0];
  // A select the user is working with is not replaced under their finger.
  if (body.contains(document.activeElement) && document.activeElement.tagName === 'SELECT') return;
  body.replaceChildren();
  for (const cells of rows) {
    const row = el('tr');
    for (const cell of cells) {
      const td = el('td');
      if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
      row.appendChild(td);
    }
    body.appendChild(row);
  }
}

// -- add and limits -----------------------------------------------------------------------------
function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function addTorrent(event) {
  event.preventDefault();
  const uri = $('add-uri').value.trim();
  const file = $('add-file').files[0];
  const params = { paused: $('add-paused').checked };
  const labels = $('add-labels').value.split(',').map((l) => l.trim()).filter((l) => l);
  if (labels.length) params.labels = labels;
  if (file) params.metainfo = await readBase64(file);
  else if (uri) params.uri = uri;
  else { $('add-error').textContent = 'Give a magnet link, a URL or a .torrent file.'; return; }
  try {
    const result = await rpc('torrent.add', params);
    $('add-error').textContent = result.duplicate ? 'btd already has "' + result.name + '".' : '';
    if (!result.duplicate) { $('add-form').reset(); $('add-form').hidden = true; }
  } catch (e) {
    $('add-error').textContent = e.message;
  }
  queueRefresh();
}

async function showLimits() {
  const form = $('limits-form');
  form.hidden = !form.hidden;
  if (form.hidden) return;
  try {
    const s = await rpc('session.get');
    $('limit-down').value = Math.round(s.download_rate_limit / 1024);
    $('limit-up').value = Math.round(s.upload_rate_limit / 1024);
  } catch (e) { $('limits-error').textContent = e.message; }
}

async function applyLimits(event) {
  event.preventDefault();
  try {
    await rpc('session.set', {
      download_rate_limit: Math.round(Number($('limit-down').value) * 1024),
      upload_rate_limit: Math.round(Number($('limit-up').value) * 1024),
    });
    $('limits-error').textContent = '';
    $('limits-form').hidden = true;
  } catch (e) { $('limits-error').textContent = e.message; }
}

// -- start --------------------------------------------------------------------------------------
function bind() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('filter').addEventListener('input', sortRows);
  $('sort').addEventListener('change', sortRows);
  $('show-add').addEventListener('click', () => { $('add-form').hidden = !$('add-form').hidden; });
  $('add-cancel').addEventListener('click', () => { $('add-form').hidden = true; });
  $('add-form').addEventListener('submit', addTorrent);
  $('show-limits').addEventListener('click', showLimits);
  $('limits-cancel').addEventListener('click', () => { $('limits-form').hidden = true; });
  $('limits-form').addEventListener('submit', applyLimits);
  $('detail-close').addEventListener('click', closeDetail);
}

bind();
checkSession();
