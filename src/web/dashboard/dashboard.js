// nodepool-ts dashboard: plain browser JavaScript, no framework, no build step. It reads the web
// app's JSON listings and re-reads one when the server-sent events at `events` say it changed
// (or every POLL_MS while the event stream is down). All text goes in with textContent.
'use strict';
(function dashboard() {
  const MIN_FETCH_INTERVAL_MS = 1000;
  const POLL_MS = 5000;
  const OVERSCAN = 10;
  const MAX_REQUEST_ROWS = 200;
  const STATE_ORDER = ['building', 'ready', 'in-use', 'used', 'hold', 'deleting', 'failed', 'init', 'testing', 'aborted', 'deleted'];

  /** Listings: URL and the event kinds that change them. */
  const sources = {
    nodes: { url: 'node-list.json', kinds: ['nodes'] },
    providers: { url: 'provider-list.json', kinds: ['nodes', 'pools', 'launchers'] },
    launchers: { url: 'launcher-list.json', kinds: ['launchers', 'pools'] },
    labels: { url: 'label-list.json', kinds: ['pools'] },
    requests: { url: 'request-list.json', kinds: ['requests'] },
  };
  const data = { nodes: [], providers: [], launchers: [], labels: [], requests: [] };
  const seen = {};
  let live = false;
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  const stateClass = (s) => 'st-' + String(s).replace(/[^a-z0-9-]/gi, '');
  const list = (v) => (Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '' : String(v));

  // ---- fetching ------------------------------------------------------------------------------

  for (const name of Object.keys(sources)) Object.assign(sources[name], { inflight: false, dirty: false, timer: null, last: 0, cost: 0, version: '' });

  function schedule(name, version) {
    const s = sources[name];
    s.dirty = true;
    if (version !== undefined) s.version = version;
    if (s.inflight || s.timer) return;
    // A listing that takes long to fetch and draw (6000 nodes on a slow machine) is read less
    // often, so the page never spends most of its time redrawing.
    const wait = Math.max(0, s.last + Math.max(MIN_FETCH_INTERVAL_MS, 4 * s.cost) - Date.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      load(name);
    }, wait);
  }

  async function load(name) {
    const s = sources[name];
    s.dirty = false;
    s.inflight = true;
    // The event counters in the query make a fresh key in the server's 1 s body cache, shared
    // by every viewer that heard the same event; without events, the plain URL.
    const url = s.version ? s.url + '?v=' + s.version : s.url;
    const started = Date.now();
    try {
      const res = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      data[name] = await res.json();
      if (name === 'nodes') prepareNodes();
      render(name);
      showError(name, null);
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (err) {
      showError(name, s.url + ': ' + (err && err.message ? err.message : err));
    } finally {
      s.inflight = false;
      s.last = Date.now();
      s.cost = s.last - started;
      if (s.dirty) schedule(name);
    }
  }

  const errors = {};
  function showError(name, message) {
    if (message) errors[name] = message;
    else delete errors[name];
    const text = Object.values(errors).join('; ');
    $('error').textContent = text;
    $('error').hidden = text === '';
  }

  function loadAll() {
    for (const name of Object.keys(sources)) schedule(name);
  }

  function connect() {
    if (!window.EventSource) return;
    const events = new EventSource('events');
    events.addEventListener('open', () => setLive(true));
    events.addEventListener('error', () => setLive(false));
    events.addEventListener('change', (ev) => {
      setLive(true);
      let counters;
      try {
        counters = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      for (const name of Object.keys(sources)) {
        const version = sources[name].kinds.map((k) => counters[k]).join('-');
        if (seen[name] !== version) {
          seen[name] = version;
          schedule(name, version);
        }
      }
    });
  }

  function setLive(on) {
    live = on;
    const badge = $('live');
    badge.textContent = on ? 'live' : 'polling every ' + POLL_MS / 1000 + ' s';
    badge.className = 'badge ' + (on ? 'badge-live' : 'badge-wait');
  }

  // ---- rendering -----------------------------------------------------------------------------

  function render(name) {
    if (name === 'nodes') {
      renderSummary();
      renderLabels();
      renderNodeStates();
      renderNodes();
    } else if (name === 'providers') renderProviders();
    else if (name === 'launchers') renderLaunchers();
    else if (name === 'labels') renderLabels();
    else if (name === 'requests') {
      renderRequests();
      renderSummary();
    }
  }

  function fillBody(table, rows, columns, emptyText) {
    const body = table.tBodies[0];
    const frag = document.createDocumentFragment();
    if (rows.length === 0) {
      const tr = el('tr');
      const td = el('td', emptyText, 'empty');
      td.colSpan = columns;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    for (const r of rows) frag.appendChild(r);
    body.replaceChildren(frag);
  }

  function countStates(nodes) {
    const counts = new Map();
    for (const n of nodes) counts.set(n.state, (counts.get(n.state) || 0) + 1);
    return counts;
  }

  function orderedStates(keys) {
    return [...keys].sort((a, b) => {
      const ia = STATE_ORDER.indexOf(a);
      const ib = STATE_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  function renderSummary() {
    const cards = $('summary');
    const frag = document.createDocumentFragment();
    const card = (n, k, cls) => {
      const c = el('div', null, 'card');
      c.appendChild(el('span', n, 'n' + (cls ? ' ' + cls : '')));
      c.appendChild(el('span', k, 'k'));
      c.dataset.key = k;
      frag.appendChild(c);
    };
    card(data.nodes.length, 'nodes');
    const counts = countStates(data.nodes);
    for (const s of orderedStates(counts.keys())) card(counts.get(s), s, stateClass(s));
    card(data.requests.length, 'requests');
    card(data.launchers.length, 'launchers');
    cards.replaceChildren(frag);
  }

  function pills(parent, items, clsOf) {
    for (const it of items) parent.appendChild(el('span', it, 'pill' + (clsOf ? ' ' + clsOf(it) : '')));
  }

  function meter(used, max) {
    const m = el('span', null, 'meter');
    const bar = el('span');
    const ratio = max > 0 ? Math.min(1, used / max) : 1;
    bar.style.width = Math.round(ratio * 100) + '%';
    if (ratio >= 1) m.classList.add('full');
    else if (ratio >= 0.8) m.classList.add('high');
    m.title = used + ' of ' + max;
    m.appendChild(bar);
    return m;
  }

  function renderProviders() {
    const rows = data.providers.map((p) => {
      const tr = el('tr');
      tr.dataset.provider = p.provider;
      tr.dataset.pool = p.pool;
      tr.appendChild(el('td', p.provider || '(none)'));
      tr.appendChild(el('td', p.pool || '(none)'));
      const st = el('td');
      const states = Object.entries(p.provider_states || {});
      if (states.length === 0) st.appendChild(el('span', p.registered ? 'registered' : 'not registered', 'muted'));
      for (const [host, s] of states) st.appendChild(el('span', states.length > 1 ? host + ': ' + s : s, 'pill ' + stateClass(s)));
      tr.appendChild(st);
      tr.appendChild(el('td', list(p.launchers)));
      const labels = el('td');
      pills(labels, p.labels || []);
      tr.appendChild(labels);
      tr.appendChild(el('td', p.paused ? 'paused' : 'no', p.paused ? 'st-paused' : ''));
      const nodes = el('td', null, 'usage');
      nodes.appendChild(el('span', p.nodes + ' / ' + (p.max_servers === null || p.max_servers === undefined ? '∞' : p.max_servers)));
      if (typeof p.max_servers === 'number') nodes.appendChild(meter(p.nodes, p.max_servers));
      tr.appendChild(nodes);
      const quota = el('td');
      const limits = p.quota_limits || {};
      for (const [k, used] of Object.entries(p.quota_used || {})) {
        if (k === 'instances') continue;
        quota.appendChild(el('span', k + ' ' + used + (k in limits ? ' / ' + limits[k] : ''), 'pill'));
      }
      for (const [k, max] of Object.entries(limits)) {
        if (k !== 'instances' && !(k in (p.quota_used || {}))) quota.appendChild(el('span', k + ' 0 / ' + max, 'pill'));
      }
      if (!quota.firstChild) quota.appendChild(el('span', '—', 'muted'));
      tr.appendChild(quota);
      const byState = el('td');
      const counts = p.node_states || {};
      for (const s of orderedStates(Object.keys(counts))) byState.appendChild(el('span', s + ' ' + counts[s], 'pill ' + stateClass(s)));
      tr.appendChild(byState);
      return tr;
    });
    fillBody($('providers'), rows, 9, 'no provider pools registered');
  }

  function renderLaunchers() {
    const rows = data.launchers.map((l) => {
      const tr = el('tr');
      tr.dataset.hostname = l.hostname;
      tr.appendChild(el('td', l.hostname));
      tr.appendChild(el('td', l.state, stateClass(l.state)));
      tr.appendChild(el('td', l.version));
      const pools = el('td');
      pills(pools, l.pools || []);
      tr.appendChild(pools);
      const prov = el('td');
      for (const p of l.providers || []) {
        const pill = el('span', p.name + ': ' + p.state, 'pill ' + stateClass(p.state));
        if (p.error) pill.title = p.error;
        prov.appendChild(pill);
      }
      tr.appendChild(prov);
      return tr;
    });
    fillBody($('launchers'), rows, 5, 'no launcher registered');
  }

  function renderLabels() {
    const byLabel = new Map();
    const entry = (label) => {
      let e = byLabel.get(label);
      if (!e) byLabel.set(label, (e = { ready: 0, 'in-use': 0, building: 0, other: 0, total: 0 }));
      return e;
    };
    for (const row of data.labels) entry(row.label);
    for (const n of data.nodes) {
      for (const label of n.label || []) {
        const e = entry(label);
        e.total++;
        if (n.state in e && n.state !== 'other' && n.state !== 'total') e[n.state]++;
        else e.other++;
      }
    }
    const rows = [...byLabel.keys()].sort().map((label) => {
      const e = byLabel.get(label);
      const tr = el('tr');
      tr.dataset.label = label;
      for (const v of [label, e.ready, e['in-use'], e.building, e.other, e.total]) tr.appendChild(el('td', v));
      return tr;
    });
    fillBody($('labels'), rows, 6, 'no labels');
  }

  function renderRequests() {
    const reqs = data.requests;
    $('request-count').textContent = '(' + reqs.length + ')';
    const rows = reqs.slice(0, MAX_REQUEST_ROWS).map((r) => {
      const tr = el('tr');
      tr.dataset.requestId = r.id;
      tr.appendChild(el('td', r.id));
      tr.appendChild(el('td', r.state, stateClass(r.state)));
      tr.appendChild(el('td', r.requestor));
      tr.appendChild(el('td', list(r.node_types)));
      tr.appendChild(el('td', list(r.nodes)));
      tr.appendChild(el('td', list(r.declined_by)));
      return tr;
    });
    fillBody($('requests'), rows, 6, 'no requests');
    const more = $('requests-more');
    more.hidden = reqs.length <= MAX_REQUEST_ROWS;
    more.textContent = 'showing ' + MAX_REQUEST_ROWS + ' of ' + reqs.length + ' (all in request-list.json)';
  }

  // ---- the virtual node table ----------------------------------------------------------------

  const COLUMNS = [
    ['id', 'ID'], ['provider', 'Provider'], ['pool', 'Pool'], ['label', 'Label'], ['state', 'State'], ['age', 'Age'],
    ['locked', 'Locked'], ['server_id', 'Server ID'], ['public_ipv4', 'Public IPv4'], ['hostname', 'Hostname'],
    ['launcher', 'Launcher'], ['allocated_to', 'Allocated To'], ['comment', 'Comment'],
  ];
  const SEARCHED = ['id', 'provider', 'pool', 'label', 'state', 'server_id', 'public_ipv4', 'ipv6', 'private_ipv4', 'hostname', 'launcher', 'allocated_to', 'comment'];
  let filtered = [];
  let sortKey = 'id';
  let sortDir = 1;
  let rowHeight = 26;
  let fetchedAt = Date.now();
  const rowPool = [];

  /** `DD:HH:MM:SS` → seconds, so ages can keep counting between fetches. */
  function ageSeconds(text) {
    const m = /^(-?\d+):(\d+):(\d+):(\d+)$/.exec(String(text || ''));
    return m ? ((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4]) : null;
  }
  function formatAge(sec) {
    const two = (n) => String(n).padStart(2, '0');
    const d = Math.floor(sec / 86400);
    return two(d) + ':' + two(Math.floor(sec / 3600) % 24) + ':' + two(Math.floor(sec / 60) % 60) + ':' + two(Math.floor(sec) % 60);
  }

  function prepareNodes() {
    fetchedAt = Date.now();
    for (const n of data.nodes) {
      n._age = ageSeconds(n.age);
      n._text = SEARCHED.map((k) => list(n[k])).join(' ').toLowerCase();
    }
  }

  function cellText(n, key) {
    if (key === 'age') return n._age === null || n._age < 0 ? n.age : formatAge(n._age + Math.floor((Date.now() - fetchedAt) / 1000));
    return list(n[key]);
  }

  function renderNodeStates() {
    const select = $('state-filter');
    const current = select.value;
    const states = orderedStates(countStates(data.nodes).keys());
    if (current && !states.includes(current)) states.push(current);
    const frag = document.createDocumentFragment();
    const all = el('option', 'all states');
    all.value = '';
    frag.appendChild(all);
    for (const s of states) {
      const o = el('option', s);
      o.value = s;
      frag.appendChild(o);
    }
    select.replaceChildren(frag);
    select.value = current;
  }

  function renderHead() {
    const head = $('node-head');
    head.replaceChildren();
    for (const [key, title] of COLUMNS) {
      const h = el('span', title);
      h.setAttribute('role', 'columnheader');
      h.dataset.key = key;
      if (key === sortKey) h.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      head.appendChild(h);
    }
  }

  function compare(a, b) {
    let x;
    let y;
    if (sortKey === 'age') {
      x = a._age;
      y = b._age;
    } else {
      x = list(a[sortKey]);
      y = list(b[sortKey]);
    }
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  function renderNodes() {
    const terms = $('node-filter').value.toLowerCase().split(/\s+/).filter(Boolean);
    const state = $('state-filter').value;
    filtered = data.nodes.filter((n) => (!state || n.state === state) && terms.every((t) => n._text.includes(t)));
    if (sortKey !== 'id' || sortDir !== 1) filtered.sort(compare);
    const total = data.nodes.length;
    $('node-count').textContent = filtered.length === total ? '(' + total + ')' : '(' + filtered.length + ' of ' + total + ')';
    $('node-body').style.height = filtered.length * rowHeight + 'px';
    paintRows();
  }

  function makeRow() {
    const row = el('div', null, 'nrow');
    row.setAttribute('role', 'row');
    for (const [key] of COLUMNS) {
      const c = el('span', null, 'c-' + key);
      c.setAttribute('role', 'cell');
      row.appendChild(c);
    }
    return row;
  }

  /** Puts only the rows in view (plus a margin) into the page. */
  function paintRows() {
    const viewport = $('node-viewport');
    const body = $('node-body');
    const headHeight = $('node-head').offsetHeight;
    const top = Math.max(0, viewport.scrollTop - headHeight);
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(filtered.length, Math.ceil((top + viewport.clientHeight) / rowHeight) + OVERSCAN);
    const count = Math.max(0, last - first);
    while (rowPool.length < count) rowPool.push(makeRow());
    for (let i = 0; i < count; i++) {
      const n = filtered[first + i];
      const row = rowPool[i];
      row.style.top = (first + i) * rowHeight + 'px';
      row.dataset.nodeId = n.id;
      const cells = row.children;
      for (let c = 0; c < COLUMNS.length; c++) {
        const key = COLUMNS[c][0];
        const text = cellText(n, key);
        if (cells[c].textContent !== text) cells[c].textContent = text;
        cells[c].title = text;
        if (key === 'state') cells[c].className = 'c-state ' + stateClass(n.state);
      }
      if (row.parentNode !== body) body.appendChild(row);
    }
    for (let i = count; i < rowPool.length; i++) if (rowPool[i].parentNode) rowPool[i].remove();
    let none = body.querySelector('.none');
    if (filtered.length === 0) {
      if (!none) body.appendChild((none = el('div', '', 'none')));
      none.textContent = data.nodes.length === 0 ? 'no nodes' : 'no node matches the filter';
    } else if (none) none.remove();
  }

  // ---- start ---------------------------------------------------------------------------------

  function start() {
    renderHead();
    const probe = makeRow();
    $('node-body').appendChild(probe);
    rowHeight = probe.offsetHeight || rowHeight;
    probe.remove();
    let painting = false;
    $('node-viewport').addEventListener('scroll', () => {
      if (painting) return;
      painting = true;
      requestAnimationFrame(() => {
        painting = false;
        paintRows();
      });
    });
    window.addEventListener('resize', paintRows);
    $('node-filter').addEventListener('input', renderNodes);
    $('state-filter').addEventListener('change', renderNodes);
    $('node-head').addEventListener('click', (ev) => {
      const key = ev.target && ev.target.dataset ? ev.target.dataset.key : undefined;
      if (!key) return;
      sortDir = key === sortKey ? -sortDir : 1;
      sortKey = key;
      renderHead();
      renderNodes();
    });
    for (const name of Object.keys(data)) render(name);
    // With events, their first message (current counters) triggers the first loads.
    if (window.EventSource) connect();
    else loadAll();
    setInterval(() => {
      if (!live) loadAll();
    }, POLL_MS);
    // Ages count on between fetches.
    setInterval(paintRows, 1000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
