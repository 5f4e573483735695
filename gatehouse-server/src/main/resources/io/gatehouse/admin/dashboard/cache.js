// The Cache panel: per route with a cache, what GET /cache reports (docs/admin-api.md), as hit ratios and counts.
import { h } from './dom.js';
import { count, percent } from './format.js';

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** Hit ratio in requests: answers from the store over every request the cache looked up. */
export function requestHitRatio(r) {
  const looked = r.hits + r.misses + r.expired + r.revalidated + r.stale + r.uncacheable;
  return looked ? (r.hits + r.stale) / looked : null;
}

/** Hit ratio in bytes: body bytes sent from the store over all body bytes sent. */
export function byteHitRatio(r) {
  const all = r.hit_bytes + r.origin_bytes;
  return all ? r.hit_bytes / all : null;
}

const COLUMNS = ['route', 'entries', 'size', 'disk', 'hit ratio', 'byte hit ratio', 'origin saved', 'coalesced', 'stale served', 'evictions'];

/** Renders GET /cache into {@code container}; the section stays hidden while no route has a cache. */
export function renderCache(section, container, answer) {
  const routes = answer.routes || [];
  section.hidden = routes.length === 0;
  if (routes.length === 0) return;
  const rows = routes.map((r) => h('tr', { 'data-route': `${r.listener}/${r.route}` },
    h('td', null, `${r.listener} / ${r.route}`),
    h('td', { class: 'num' }, count(r.entries)),
    h('td', { class: 'num' }, `${size(r.bytes)} / ${size(r.max_bytes)}`),
    // Only a route with a disk tier reports disk_*; the others show a dash.
    h('td', { class: 'num', 'data-field': 'disk' }, r.disk_max_bytes === undefined ? '-'
      : `${count(r.disk_entries)} in ${size(r.disk_bytes)} / ${size(r.disk_max_bytes)}${r.disk_corrupt ? `, ${count(r.disk_corrupt)} corrupt` : ''}`),
    h('td', { class: 'num', 'data-field': 'hit_ratio' }, percent(requestHitRatio(r))),
    h('td', { class: 'num', 'data-field': 'byte_hit_ratio' }, percent(byteHitRatio(r))),
    h('td', { class: 'num' }, count(r.origin_saved)),
    h('td', { class: 'num' }, count(r.coalesced)),
    h('td', { class: 'num' }, count(r.stale_served)),
    h('td', { class: 'num' }, count(r.evictions))));
  container.replaceChildren(h('table', { class: 'endpoints cache-table' },
    h('thead', null, h('tr', null, ...COLUMNS.map((c) => h('th', null, c)))),
    h('tbody', null, ...rows)));
}
