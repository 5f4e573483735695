// Wires the page: polls the admin API every two seconds and hands each part of the answer to its view.
import { api, captureToken } from './api.js';
import { setText } from './dom.js';
import { count, rate, percent, duration, clock, plural } from './format.js';
import { topology } from './topology.js';
import { renderRoutes } from './routes.js';
import { ClusterPanels } from './clusters.js';
import { renderEvents, ReloadPanel } from './activity.js';
import { renderGateway } from './gateway.js';
import { renderCache } from './cache.js';
import { renderBlocks } from './blocks.js';

const POLL_MILLIS = 2000;
const EVENTS_SHOWN = 50;

captureToken();

const $ = (id) => document.getElementById(id);
const status = $('status');
const clusters = new ClusterPanels($('clusters'), async (cluster, address, action) => {
  const endpoint = await api.endpoint(cluster, address, action);
  refreshSoon();
  return endpoint;
});
const reload = new ReloadPanel($('reload'), async () => {
  try {
    return await api.reload();
  } finally {
    refreshSoon();
  }
});

function showTotals(stats) {
  const totals = {
    version: stats.version,
    uptime: duration(stats.uptime_seconds),
    requests_total: count(stats.requests_total),
    requests_per_second: rate(stats.requests_per_second),
    errors_total: `${count(stats.errors_total)} (${percent(stats.requests_total ? stats.errors_total / stats.requests_total : 0)})`,
    requests_in_flight: count(stats.requests_in_flight),
    endpoints: `${stats.endpoints_available} / ${stats.endpoints}`,
    config: [plural(stats.listeners, 'listener'), plural(stats.routes, 'route'), plural(stats.clusters, 'cluster')].join(' · '),
  };
  for (const [field, text] of Object.entries(totals)) {
    const element = document.querySelector(`#totals [data-field="${field}"]`);
    if (element) setText(element, text);
  }
  document.title = `Gatehouse · ${count(stats.requests_total)} requests`;
}

let timer = null;
let running = false;
let again = false;   // a refresh was asked for while one was under way

async function refresh() {
  clearTimeout(timer);
  if (running) {
    again = true;
    return;
  }
  running = true;
  again = false;
  try {
    const [stats, listeners, routes, clusterList, history, events, gateway, cache, system] = await Promise.all([
      api.stats(), api.listeners(), api.routes(), api.clusters(), api.history(), api.events(EVENTS_SHOWN), api.gateway(),
      api.cache(), api.blocks(),
    ]);
    renderBlocks($('system'), $('blocks'), system.blocks);
    showTotals(stats);
    $('topology').replaceChildren(topology(listeners.listeners, routes.routes, clusterList.clusters));
    renderRoutes($('routes'), routes.routes);
    clusters.update(clusterList.clusters, history);
    renderEvents($('events'), events.events);
    renderGateway($('gateway'), gateway);
    renderCache($('cache-section'), $('cache'), cache);
    reload.update(stats);
    status.className = 'status live';
    setText(status, `live · updated ${clock(Date.now())}`);
  } catch (e) {
    status.className = 'status error';
    setText(status, e.message);
  } finally {
    running = false;
    timer = setTimeout(refresh, again ? 0 : POLL_MILLIS);
  }
}

function refreshSoon() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 0);
}

// Do not poll a hidden tab; catch up at once when it is shown again.
document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(timer);
  else refreshSoon();
});

refresh();
