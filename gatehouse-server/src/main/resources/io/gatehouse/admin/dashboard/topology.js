// The request path as the config names it: listeners → routes → clusters → endpoints, one SVG column each.
import { s } from './dom.js';

const COLUMN_W = 190;
const GAP = 70;
const NODE_H = 38;
const ROW_H = 48;
const MAX_CHARS = 27;

const clip = (text) => (text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text);

function node(column, y, { kind, name, detail, cls = '', data = {}, href = null }) {
  const x = column * (COLUMN_W + GAP);
  const attrs = { class: `node ${kind} ${cls}`, 'data-kind': kind, 'data-name': name, transform: `translate(${x},${y - NODE_H / 2})` };
  for (const [key, value] of Object.entries(data)) attrs[`data-${key}`] = value;
  const g = s('g', attrs,
    s('title', null, detail ? `${kind} ${name} — ${detail}` : `${kind} ${name}`),
    s('rect', { width: COLUMN_W, height: NODE_H, rx: 6 }),
    s('text', { class: 'name', x: 10, y: 16 }, clip(name)),
    s('text', { class: 'detail', x: 10, y: 30 }, clip(detail || '')));
  return href ? s('a', { href }, g) : g;
}

function edge(fromColumn, fromY, toColumn, toY, cls = '', width = 1.5) {
  const x1 = fromColumn * (COLUMN_W + GAP) + COLUMN_W;
  const x2 = toColumn * (COLUMN_W + GAP);
  const mid = (x1 + x2) / 2;
  return s('path', { class: `edge ${cls}`, d: `M${x1},${fromY} C${mid},${fromY} ${mid},${toY} ${x2},${toY}`, 'stroke-width': width });
}

function routeDetail(route) {
  const match = route.match || {};
  const what = match.path ? `path ${match.path}` : match.path_prefix ? `prefix ${match.path_prefix}`
    : Object.keys(match).length ? Object.entries(match).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ') : 'any';
  return route.action && route.action !== 'proxy' ? `${what} → ${route.action.replace('_', ' ')}` : what;
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Draws the topology. Endpoints take one row each, grouped by cluster; a cluster sits beside its endpoints, routes
 * are spread evenly, a listener sits beside its routes. Lines from a cluster to its endpoints are as thick as the
 * endpoint's share of the cluster's requests.
 */
export function topology(listeners, routes, clusters) {
  // Clusters in the order routes first reach them, then the ones no route uses.
  const clusterOrder = [];
  for (const route of routes) if (route.cluster && !clusterOrder.includes(route.cluster)) clusterOrder.push(route.cluster);
  for (const c of clusters) if (!clusterOrder.includes(c.cluster)) clusterOrder.push(c.cluster);
  const byName = new Map(clusters.map((c) => [c.cluster, c]));

  const endpointY = new Map();   // "cluster\naddress" → y
  const clusterY = new Map();
  let row = 0;
  for (const name of clusterOrder) {
    const cluster = byName.get(name);
    const ys = [];
    for (const ep of cluster ? cluster.endpoints : []) {
      const y = (row++ + 0.5) * ROW_H;
      endpointY.set(`${name}\n${ep.address}`, y);
      ys.push(y);
    }
    if (ys.length === 0) ys.push((row++ + 0.5) * ROW_H);   // an empty or unknown cluster still gets a row
    clusterY.set(name, mean(ys));
  }
  const rows = Math.max(row, routes.length, listeners.length, 1);
  const height = rows * ROW_H;
  const routeY = routes.map((_, i) => (i + 0.5) * (height / Math.max(routes.length, 1)));
  const listenerY = listeners.map((l, i) => {
    const ys = routes.flatMap((r, j) => (r.listener === l.listener ? [routeY[j]] : []));
    return ys.length ? mean(ys) : (i + 0.5) * (height / listeners.length);
  });

  const width = 4 * COLUMN_W + 3 * GAP;
  const svg = s('svg', { class: 'topology', viewBox: `-4 -24 ${width + 8} ${height + 28}`, role: 'img', 'aria-label': 'topology' });
  ['listeners', 'routes', 'clusters', 'endpoints'].forEach((title, column) =>
    svg.append(s('text', { class: 'column-title', x: column * (COLUMN_W + GAP), y: -8 }, title)));

  const edges = s('g', { class: 'edges' });
  const nodes = s('g', { class: 'nodes' });
  svg.append(edges, nodes);

  listeners.forEach((l, i) => nodes.append(node(0, listenerY[i], { kind: 'listener', name: l.listener, detail: l.address })));
  routes.forEach((r, i) => {
    const from = listeners.findIndex((l) => l.listener === r.listener);
    if (from >= 0) edges.append(edge(0, listenerY[from], 1, routeY[i]));
    if (r.cluster && clusterY.has(r.cluster)) edges.append(edge(1, routeY[i], 2, clusterY.get(r.cluster)));
    nodes.append(node(1, routeY[i], { kind: 'route', name: r.route, detail: routeDetail(r), data: { listener: r.listener } }));
  });
  for (const name of clusterOrder) {
    const cluster = byName.get(name);
    const detail = cluster ? `${cluster.policy} · ${cluster.endpoints_available}/${cluster.endpoints.length} up` : 'not defined';
    nodes.append(node(2, clusterY.get(name), {
      kind: 'cluster', name, detail, cls: cluster ? `mode-${cluster.mode}` : 'missing', href: `#cluster-${encodeURIComponent(name)}`,
    }));
    if (!cluster) continue;
    const total = cluster.endpoints.reduce((sum, ep) => sum + ep.requests_total, 0);
    for (const ep of cluster.endpoints) {
      const y = endpointY.get(`${name}\n${ep.address}`);
      const share = total > 0 ? ep.requests_total / total : 0;
      edges.append(edge(2, clusterY.get(name), 3, y, `state-${ep.state}`, 1.5 + share * 6));
      nodes.append(node(3, y, {
        kind: 'endpoint', name: ep.address, detail: `${ep.state}${ep.backup ? ' · backup' : ''} · w${ep.weight}`,
        cls: `state-${ep.state}`, data: { cluster: name, state: ep.state },
      }));
    }
  }
  return svg;
}
