// Small SVG charts: a time-series line chart and share bars. Drawn from scratch so the page needs nothing external.
import { h, s } from './dom.js';

const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 46, right: 8, top: 8, bottom: 18 };

/** The smallest "round" number (1, 2, 2.5, 5 × 10^n) at or above value, so axis labels read well. */
function niceCeiling(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/**
 * A line chart over time.
 * @param series [{label, cls, points: [[epochMillis, value], …]}] drawn in order, one CSS class per series
 * @param options {title, format(value) → text, windowMillis: the span of the x axis, ending at now}
 */
export function lineChart(series, { title, format, windowMillis, now = Date.now() }) {
  const x0 = now - windowMillis;
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const visible = series.map((line) => ({ ...line, points: line.points.filter(([t]) => t >= x0) }));
  const top = niceCeiling(Math.max(0, ...visible.flatMap((line) => line.points.map(([, v]) => v))));
  const x = (t) => PAD.left + ((t - x0) / windowMillis) * innerW;
  const y = (v) => PAD.top + innerH - (v / top) * innerH;

  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': title });
  for (const v of [0, top / 2, top]) {
    svg.append(
      s('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: PAD.left - 4, y: y(v) + 3, 'text-anchor': 'end' }, format(v)),
    );
  }
  const minutes = Math.round(windowMillis / 60_000);
  svg.append(
    s('text', { class: 'axis', x: PAD.left, y: HEIGHT - 4 }, `-${minutes} min`),
    s('text', { class: 'axis', x: WIDTH - PAD.right, y: HEIGHT - 4, 'text-anchor': 'end' }, 'now'),
  );
  for (const line of visible) {
    if (line.points.length === 0) continue;
    const d = line.points.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    const [lastT, lastV] = line.points[line.points.length - 1];
    svg.append(
      s('path', { class: `line ${line.cls}`, d }),
      s('circle', { class: `dot ${line.cls}`, cx: x(lastT), cy: y(lastV), r: 2.5 },
        s('title', null, `${line.label}: ${format(lastV)}`)),
    );
  }
  if (visible.every((line) => line.points.length === 0)) {
    svg.append(s('text', { class: 'empty', x: PAD.left + innerW / 2, y: PAD.top + innerH / 2, 'text-anchor': 'middle' },
      'no samples yet'));
  }
  const legend = series.length > 1
    ? h('span', { class: 'legend' }, series.map((line) => h('span', { class: `key ${line.cls}` }, line.label)))
    : null;
  return h('figure', { class: 'chart-box' }, h('figcaption', null, title, legend), svg);
}

/**
 * Horizontal bars of each item's share of the total, e.g. requests per endpoint under load balancing.
 * @param items [{label, value, cls}]
 */
export function shareBars(items, format) {
  const total = items.reduce((sum, item) => sum + item.value, 0);
  return h('div', { class: 'share-bars' }, items.map((item) => {
    const share = total > 0 ? item.value / total : 0;
    const fill = h('span', { class: `fill ${item.cls || ''}` });
    fill.style.width = `${(share * 100).toFixed(1)}%`;   // CSSOM, allowed by the page's style-src 'self' policy
    return h('div', { class: 'share', title: `${item.label}: ${format(item.value)} of ${format(total)}` },
      h('span', { class: 'label' }, item.label),
      h('span', { class: 'bar' }, fill),
      h('span', { class: 'value' }, `${(share * 100).toFixed(0)}%`));
  }));
}
