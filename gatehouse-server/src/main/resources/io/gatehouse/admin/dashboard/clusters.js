// One card per cluster: headline figures, live charts, load-balancing distribution and the endpoint table with
// drain / disable / enable buttons. Cards and rows are kept between polls and updated in place, so a button being
// clicked and the result shown beside it survive the next refresh.
import { h, setText } from './dom.js';
import { lineChart, shareBars } from './charts.js';
import { count, rate, percent, ms } from './format.js';

const CHART_WINDOW_MILLIS = 5 * 60_000;
const ACTIONS = [
  { action: 'drain', label: 'drain', title: 'finish in-flight requests, send no new ones', when: (ep) => !ep.draining && !ep.disabled },
  { action: 'disable', label: 'disable', title: 'take out of load balancing now', when: (ep) => !ep.disabled },
  { action: 'enable', label: 'enable', title: 'clear drain and disable', when: (ep) => ep.draining || ep.disabled },
];

function figure(field, label) {
  const value = h('dd', { 'data-field': field }, '–');
  return { element: h('div', { class: 'figure' }, h('dt', null, label), value), value };
}

export class ClusterPanels {
  /** @param onAction (cluster, address, action) → Promise of the updated endpoint; rejects with an ApiError */
  constructor(container, onAction) {
    this.container = container;
    this.onAction = onAction;
    this.cards = new Map();
  }

  update(clusters, history) {
    const seen = new Set();
    for (const cluster of clusters) {
      seen.add(cluster.cluster);
      let card = this.cards.get(cluster.cluster);
      if (!card) {
        card = this.createCard(cluster.cluster);
        this.cards.set(cluster.cluster, card);
      }
      this.container.append(card.root);   // keeps the API's order; appending an existing node moves it
      this.fillCard(card, cluster, history?.clusters?.[cluster.cluster]);
    }
    for (const [name, card] of this.cards) {
      if (!seen.has(name)) {
        card.root.remove();
        this.cards.delete(name);
      }
    }
  }

  createCard(name) {
    const figures = {
      requests_total: figure('requests_total', 'requests'),
      requests_per_second: figure('requests_per_second', 'req/s'),
      error_rate: figure('error_rate', 'errors'),
      p50: figure('p50', 'p50'),
      p99: figure('p99', 'p99'),
      endpoints: figure('endpoints', 'available'),
      requests_in_flight: figure('requests_in_flight', 'in flight'),
      connections: figure('connections', 'conns open / idle / pending'),
    };
    const mode = h('span', { class: 'badge', 'data-field': 'mode' });
    const policy = h('span', { class: 'muted', 'data-field': 'policy' });
    const charts = h('div', { class: 'charts' });
    const distribution = h('div', { class: 'distribution' });
    const rows = h('tbody');
    const root = h('section', { class: 'card cluster', id: `cluster-${encodeURIComponent(name)}`, 'data-cluster': name },
      h('header', null, h('h3', null, name), mode, policy),
      h('dl', { class: 'figures' }, Object.values(figures).map((f) => f.element)),
      charts,
      h('div', { class: 'split' },
        h('div', { class: 'endpoints-box' },
          h('table', { class: 'endpoints' },
            h('thead', null, h('tr', null,
              ['endpoint', 'state', 'weight', 'requests', 'req/s', '5xx', 'p50 / p99', 'in flight', 'actions'].map(
                (title) => h('th', null, title)))),
            rows)),
        h('div', { class: 'distribution-box' }, h('h4', null, 'load-balancing share of requests'), distribution)));
    return { name, root, figures, mode, policy, charts, distribution, rows, endpointRows: new Map() };
  }

  fillCard(card, cluster, history) {
    const f = card.figures;
    setText(f.requests_total.value, count(cluster.requests_total));
    setText(f.requests_per_second.value, rate(cluster.requests_per_second));
    setText(f.error_rate.value, percent(cluster.error_rate));
    setText(f.p50.value, ms(cluster.latency_ms.p50));
    setText(f.p99.value, ms(cluster.latency_ms.p99));
    setText(f.endpoints.value, `${cluster.endpoints_available} / ${cluster.endpoints.length}`);
    setText(f.requests_in_flight.value, count(cluster.requests_in_flight));
    setText(f.connections.value, `${cluster.connections} / ${cluster.idle_connections} / ${cluster.pending_connections}`);
    setText(card.mode, cluster.mode);
    card.mode.className = `badge mode-${cluster.mode}`;
    setText(card.policy, cluster.policy);

    const samples = history?.samples || [];
    const series = (key, transform = (v) => v) => samples.map((sample) => [sample.time, transform(sample[key], sample)]);
    card.charts.replaceChildren(
      lineChart([{ label: 'req/s', cls: 's1', points: series('requests_per_second') }],
        { title: 'requests / s', format: rate, windowMillis: CHART_WINDOW_MILLIS }),
      lineChart([{ label: '5xx', cls: 's3', points: series('errors', (e, sample) => (sample.requests ? e / sample.requests : 0)) }],
        { title: 'error rate (5xx)', format: percent, windowMillis: CHART_WINDOW_MILLIS }),
      lineChart([
        { label: 'p50', cls: 's1', points: series('p50_ms') },
        { label: 'p99', cls: 's2', points: series('p99_ms') },
      ], { title: 'latency', format: ms, windowMillis: CHART_WINDOW_MILLIS }));

    card.distribution.replaceChildren(shareBars(
      cluster.endpoints.map((ep) => ({ label: ep.address, value: ep.requests_total, cls: `state-${ep.state}` })), count));

    const seen = new Set();
    for (const ep of cluster.endpoints) {
      seen.add(ep.address);
      let row = card.endpointRows.get(ep.address);
      if (!row) {
        row = this.createRow(cluster.cluster, ep.address);
        card.endpointRows.set(ep.address, row);
      }
      card.rows.append(row.tr, row.resultRow);
      fillRow(row, ep);
    }
    for (const [address, row] of card.endpointRows) {
      if (!seen.has(address)) {
        row.tr.remove();
        row.resultRow.remove();
        card.endpointRows.delete(address);
      }
    }
  }

  createRow(clusterName, address) {
    const cells = {};
    for (const field of ['state', 'weight', 'requests_total', 'requests_per_second', 'errors_total', 'latency', 'in_flight']) {
      cells[field] = h('td', { 'data-field': field, class: field === 'state' ? '' : 'num' });
    }
    const result = h('td', { class: 'result', colspan: 9, role: 'status', 'aria-live': 'polite' });
    const buttons = {};
    for (const { action, label, title } of ACTIONS) {
      buttons[action] = h('button', { type: 'button', 'data-action': action, title },
        label);
      buttons[action].addEventListener('click', () => this.act(row, clusterName, address, action));
    }
    const tr = h('tr', { class: 'endpoint', 'data-address': address },
      h('td', { class: 'address' }, address),
      Object.values(cells),
      h('td', { class: 'actions' }, Object.values(buttons)));
    const row = { tr, cells, buttons, result, resultRow: h('tr', { class: 'result-row', 'data-for': address, hidden: true }, result) };
    return row;
  }

  async act(row, clusterName, address, action) {
    row.resultRow.hidden = false;
    row.result.className = 'result pending';
    setText(row.result, `${action} ${address}…`);
    Object.values(row.buttons).forEach((b) => { b.disabled = true; });
    try {
      const endpoint = await this.onAction(clusterName, address, action);
      fillRow(row, endpoint);
      row.result.className = 'result ok';
      setText(row.result, `${action}: ${address} is now ${endpoint.state}`);
    } catch (e) {
      fillRow(row, row.last);
      row.result.className = 'result error';
      setText(row.result, e.message);
    }
  }
}

function fillRow(row, ep) {
  if (!ep) return;
  row.last = ep;
  row.tr.dataset.state = ep.state;
  const badge = row.cells.state.firstChild || row.cells.state.appendChild(h('span'));
  badge.className = `badge state-${ep.state}`;
  setText(badge, ep.state + (ep.backup ? ' (backup)' : ''));
  if (ep.last_health_failure) row.cells.state.title = `last health failure: ${ep.last_health_failure}`;
  // endpoints found at runtime (DNS, ZooKeeper, Kubernetes) say where from; static ones stay as they were
  const address = row.tr.querySelector('td.address');
  if (address && ep.source && ep.source !== 'static') {
    setText(address, `${ep.address} (${ep.source}${ep.name ? ' ' + ep.name : ''})`);
  }
  setText(row.cells.weight, ep.weight);
  setText(row.cells.requests_total, count(ep.requests_total));
  setText(row.cells.requests_per_second, rate(ep.requests_per_second));
  setText(row.cells.errors_total, count(ep.errors_total));
  setText(row.cells.latency, `${ms(ep.latency_ms.p50)} / ${ms(ep.latency_ms.p99)}`);
  setText(row.cells.in_flight, count(ep.in_flight));
  for (const { action, when } of ACTIONS) row.buttons[action].disabled = !when(ep);
}
