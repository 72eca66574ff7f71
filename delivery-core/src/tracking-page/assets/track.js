/* global document, window, location, EventSource */
// The customer's tracking page: one EventSource on /track/{id}/events (the core's live stream,
// authorised by the link's token), a stage list, an ETA countdown, and a map drawn in SVG from
// the coordinates alone, so it works with no tile server and no network beyond the core.
'use strict';

const FLOW = ['Requested', 'Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff', 'Completed'];
const LABELS = {
  Requested: 'Order received', Scheduled: 'Drone assigned', HeadedToPickup: 'Drone flying to pickup',
  PickedUp: 'Package picked up', HeadedToDropoff: 'On its way to you', Completed: 'Delivered',
  Cancelled: 'Cancelled', Failed: 'Delivery failed',
};
const FINAL = new Set(['Completed', 'Cancelled', 'Failed']);
const SVG = 'http://www.w3.org/2000/svg';
const W = 640, H = 480, PAD = 48, MIN_SPAN_M = 300, TRAIL_MAX = 500;

const id = decodeURIComponent(location.pathname.split('/')[2] || '');
const token = new URLSearchParams(location.search).get('t') || '';
// offsetMs: the core's clock minus the browser's, from each frame's serverTime.
const state = { stage: null, eta: null, pickup: null, dropoff: null, position: null, trail: [], at: {}, offsetMs: 0 };
const $ = (sel) => document.querySelector(sel);

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/** Local equirectangular projection (metres east/north of the box's centre), fitted to the view. */
function projection(points) {
  const lats = points.map((p) => p.lat), lons = points.map((p) => p.lon);
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2, lon0 = (Math.min(...lons) + Math.max(...lons)) / 2;
  const mPerDegLat = 111_320, mPerDegLon = 111_320 * Math.cos((lat0 * Math.PI) / 180);
  const xy = (p) => ({ x: (p.lon - lon0) * mPerDegLon, y: (p.lat - lat0) * mPerDegLat });
  const all = points.map(xy);
  const spanX = Math.max(MIN_SPAN_M, ...all.map((q) => 2 * Math.abs(q.x)));
  const spanY = Math.max(MIN_SPAN_M, ...all.map((q) => 2 * Math.abs(q.y)));
  const k = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
  return { k, at: (p) => { const q = xy(p); return { x: W / 2 + q.x * k, y: H / 2 - q.y * k }; } };
}

function niceStep(m) {
  const pow = 10 ** Math.floor(Math.log10(m));
  return [1, 2, 5, 10].map((f) => f * pow).find((s) => s >= m) || pow * 10;
}

function drawMap() {
  const svg = $('#map');
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  if (!state.pickup || !state.dropoff) return;
  const pts = [state.pickup, state.dropoff, ...state.trail, ...(state.position ? [state.position] : [])];
  const { k, at } = projection(pts);
  const step = niceStep(120 / k);
  for (let x = (W / 2) % (step * k); x < W; x += step * k) el('line', { class: 'grid', x1: x, y1: 0, x2: x, y2: H }, svg);
  for (let y = (H / 2) % (step * k); y < H; y += step * k) el('line', { class: 'grid', x1: 0, y1: y, x2: W, y2: y }, svg);
  const a = at(state.pickup), b = at(state.dropoff);
  el('line', { class: 'route', x1: a.x, y1: a.y, x2: b.x, y2: b.y }, svg);
  if (state.trail.length > 1) {
    el('polyline', { id: 'trail', class: 'trail', points: state.trail.map((p) => { const q = at(p); return `${q.x.toFixed(1)},${q.y.toFixed(1)}`; }).join(' ') }, svg);
  }
  el('rect', { id: 'pickup', class: 'pickup', x: a.x - 9, y: a.y - 9, width: 18, height: 18, rx: 3 }, svg);
  el('text', { x: a.x + 14, y: a.y + 5 }, svg).textContent = 'Pickup';
  el('circle', { id: 'dropoff', class: 'dropoff', cx: b.x, cy: b.y, r: 10 }, svg);
  el('text', { x: b.x + 14, y: b.y + 5 }, svg).textContent = 'You';
  if (state.position) {
    const d = at(state.position);
    el('circle', {
      id: 'drone', class: 'drone', cx: d.x, cy: d.y, r: 11,
      'data-lat': state.position.lat, 'data-lon': state.position.lon,
    }, svg);
  }
  el('line', { class: 'scale', x1: 16, y1: H - 16, x2: 16 + step * k, y2: H - 16 }, svg);
  el('text', { x: 16, y: H - 24 }, svg).textContent = step >= 1000 ? `${step / 1000} km` : `${step} m`;
}

function drawStages() {
  const ol = $('#stages');
  while (ol.firstChild) ol.removeChild(ol.firstChild);
  const flow = FINAL.has(state.stage) && state.stage !== 'Completed'
    ? [...FLOW.filter((s) => state.at[s]), state.stage] : FLOW;
  const current = flow.indexOf(state.stage);
  flow.forEach((s, i) => {
    const li = document.createElement('li');
    li.dataset.stage = s;
    li.className = i < current || state.stage === 'Completed' ? 'done' : i === current ? 'current' : '';
    li.textContent = LABELS[s] || s;
    if (state.at[s]) {
      const t = document.createElement('time');
      t.dateTime = state.at[s];
      t.textContent = new Date(state.at[s]).toLocaleTimeString();
      li.appendChild(t);
    }
    ol.appendChild(li);
  });
}

function drawEta() {
  const eta = $('#eta');
  eta.dataset.eta = state.eta || '';
  if (state.stage === 'Completed') {
    $('#eta-label').textContent = 'Delivered';
    eta.textContent = state.eta ? new Date(state.eta).toLocaleTimeString() : '✓';
    $('#eta-clock').textContent = '';
    return;
  }
  $('#eta-label').textContent = 'Estimated arrival';
  if (!state.eta || FINAL.has(state.stage)) {
    eta.textContent = '—';
    $('#eta-clock').textContent = state.stage === 'Requested' ? 'waiting for a drone' : '';
    return;
  }
  const s = Math.round((Date.parse(state.eta) - (Date.now() + state.offsetMs)) / 1000);
  eta.textContent = s <= 30 ? 'any moment' : s < 3600 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  $('#eta-clock').textContent = `around ${new Date(state.eta).toLocaleTimeString()}`;
}

function apply(frame, at) {
  if (frame.stage !== state.stage) state.at[frame.stage] = state.at[frame.stage] || at || new Date().toISOString();
  state.stage = frame.stage;
  state.eta = frame.eta;
  state.pickup = frame.pickup;
  state.dropoff = frame.dropoff;
  if (frame.serverTime) state.offsetMs = Date.parse(frame.serverTime) - Date.now();
  const p = frame.lastPosition;
  if (p && (!state.position || p.lat !== state.position.lat || p.lon !== state.position.lon)) {
    state.position = p;
    state.trail.push(p);
    if (state.trail.length > TRAIL_MAX) state.trail.shift();
  }
  const h = $('#stage');
  h.dataset.stage = frame.stage;
  h.textContent = LABELS[frame.stage] || frame.stage;
  drawStages();
  drawEta();
  drawMap();
}

function connect() {
  $('#delivery-id').textContent = id;
  const es = new EventSource(`/track/${encodeURIComponent(id)}/events?t=${encodeURIComponent(token)}`);
  const conn = $('#conn');
  const status = (s, text) => { conn.dataset.state = s; conn.textContent = text; };
  const handle = (f, at) => {
    apply(f, at);
    if (FINAL.has(f.stage)) { es.close(); status('ended', 'ended'); }
  };
  es.onopen = () => status('live', 'live');
  es.addEventListener('snapshot', (e) => {
    const f = JSON.parse(e.data);
    for (const h of f.history || []) state.at[h.stage] = h.at;
    handle(f, null);
  });
  es.addEventListener('stage', (e) => { const f = JSON.parse(e.data); handle(f, f.at); });
  es.addEventListener('progress', (e) => handle(JSON.parse(e.data), null));
  es.onerror = () => {
    // The core ends the stream at a final stage; EventSource would reconnect for ever.
    if (FINAL.has(state.stage)) { es.close(); status('ended', 'ended'); return; }
    status('reconnecting', es.readyState === EventSource.CLOSED ? 'link not valid' : 'reconnecting…');
  };
}

connect();
window.setInterval(drawEta, 1000);
