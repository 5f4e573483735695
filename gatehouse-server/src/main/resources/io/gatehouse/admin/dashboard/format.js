// How numbers and times read on the page: short, with units, the same everywhere.

export function count(n) {
  if (n === null || n === undefined) return '–';
  if (Math.abs(n) < 10_000) return String(Math.round(n));
  if (Math.abs(n) < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

export function rate(perSecond) {
  if (perSecond === null || perSecond === undefined) return '–';
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}

export function percent(fraction) {
  if (fraction === null || fraction === undefined) return '–';
  const p = fraction * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export function ms(millis) {
  if (millis === null || millis === undefined) return '–';
  if (millis === 0) return '0 ms';
  if (millis >= 1000) return `${(millis / 1000).toFixed(2)} s`;
  return `${millis >= 10 ? millis.toFixed(0) : millis.toFixed(1)} ms`;
}

export function duration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** "1 route", "2 routes". */
export function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Wall-clock time of an ISO-8601 string or epoch millis, in the viewer's time zone. */
export function clock(time) {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toLocaleTimeString([], { hour12: false });
}
