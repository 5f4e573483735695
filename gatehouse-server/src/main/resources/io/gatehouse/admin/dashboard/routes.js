// Each route with its filter chain in execution order, as GET /routes gives it: what runs on a request, and where
// it ends (the proxy to a cluster, a direct response or a redirect).
import { h } from './dom.js';

function matchText(match) {
  if (!match || Object.keys(match).length === 0) return 'any';
  if (match.path) return `path ${match.path}`;
  if (match.path_prefix) return `prefix ${match.path_prefix}`;
  return Object.entries(match).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
}

function chain(route) {
  const steps = route.chain || [];
  const list = h('ol', { class: 'chain', 'data-field': 'chain' });
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    const target = last && step === 'proxy' && route.cluster ? ` → ${route.cluster}` : '';
    list.append(h('li', { class: `step${last ? ' action' : ''}`, 'data-step': step }, h('span', { class: 'chip' }, step + target)));
  });
  return list;
}

/** Renders the routes table into {@code box}, replacing what was there (the config may have been reloaded). */
export function renderRoutes(box, routes) {
  const table = h('table', { class: 'routes' },
    h('thead', null, h('tr', null, h('th', null, 'route'), h('th', null, 'listener'), h('th', null, 'match'),
      h('th', null, 'filter chain (in order)'))),
    h('tbody', null, routes.map((r) => h('tr', { 'data-route': r.route, 'data-listener': r.listener },
      h('td', { class: 'name' }, r.route),
      h('td', null, r.listener),
      h('td', { class: 'match' }, matchText(r.match)),
      h('td', null, chain(r))))));
  box.replaceChildren(table);
}
