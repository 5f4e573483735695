// The API gateway at a glance, from GET /gateway: each route's authentication and limits (what the config says),
// and the consumers with the most requests on this edge (from metering). Rebuilt on each poll: small tables.
import { h } from './dom.js';
import { count } from './format.js';

/** One filter as a short line: its type and the settings an operator checks. */
function describe(filter) {
  const parts = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'type') continue;
    if (Array.isArray(value)) parts.push(`${key} ${value.join(', ')}`);
    else if (value !== null && typeof value === 'object') {
      parts.push(`${key} ${Object.entries(value).map(([k, v]) => `${k}: ${[].concat(v).join(', ')}`).join('; ')}`);
    } else parts.push(`${key} ${value}`);
  }
  return h('li', { class: 'gw-filter', 'data-type': filter.type },
    h('span', { class: 'badge' }, filter.type), ' ', h('span', { class: 'muted' }, parts.join(' · ')));
}

function filters(list) {
  return list.length === 0 ? h('span', { class: 'muted' }, 'none') : h('ul', { class: 'gw-filters' }, list.map(describe));
}

function routeTable(routes) {
  return h('table', { class: 'gw-routes' },
    h('thead', null, h('tr', null, h('th', null, 'route'), h('th', null, 'authentication and access'), h('th', null, 'limits'))),
    h('tbody', null, routes.map((r) => h('tr', { class: 'gw-route', 'data-listener': r.listener, 'data-route': r.route },
      h('td', null, h('strong', null, r.route), h('div', { class: 'muted' }, r.listener)),
      h('td', { 'data-field': 'auth' }, filters(r.auth)),
      h('td', { 'data-field': 'limits' }, filters(r.limits))))));
}

function topTable(top) {
  if (top.length === 0) return h('p', { class: 'muted' }, 'no consumer traffic yet (needs metering: in the config)');
  const cell = (field, value) => h('td', { class: 'num', 'data-field': field }, count(value));
  return h('table', { class: 'gw-top' },
    h('thead', null, h('tr', null, ['consumer', 'requests', '2xx', '4xx', '5xx', 'limited']
      .map((name, i) => h('th', { class: i ? 'num' : null }, name)))),
    h('tbody', null, top.map((c) => h('tr', { class: 'top-consumer', 'data-consumer': c.consumer },
      h('td', null, c.consumer), cell('requests', c.requests), cell('2xx', c['2xx']), cell('4xx', c['4xx']),
      cell('5xx', c['5xx']), cell('limited', c.limited)))));
}

/** Renders GET /gateway into {@code container}. */
export function renderGateway(container, view) {
  const facts = [
    `${count(view.consumers)} consumers`,
    `${count(view.deny_entries)} shared deny entries`,
    view.redis ? `redis ${view.redis.address} ${view.redis.up ? 'up' : 'down'}` : 'no redis',
  ].join(' · ');
  container.replaceChildren(
    h('p', { class: 'muted', 'data-field': 'gateway_facts' }, facts),
    routeTable(view.routes),
    h('h3', null, 'Top consumers'),
    topTable(view.top_consumers));
}
