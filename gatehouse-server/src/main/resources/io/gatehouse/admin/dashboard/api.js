// The admin API this page was served from (same origin, paths as in docs/admin-api.md).
// A token given once as ?token= is kept in sessionStorage (this tab only) and sent as a bearer header.
const TOKEN_KEY = 'gatehouse.admin.token';

/** Moves ?token= from the address bar into sessionStorage, so it stays out of history, bookmarks and screenshots. */
export function captureToken() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  window.history.replaceState(null, '', url.pathname + url.search + url.hash);
}

/** A failed call: the HTTP status (0 when the admin listener was unreachable) and the API's own error text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `${method} ${path}: admin API unreachable (${e.message})`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the raw text
  }
  if (!response.ok) {
    let reason = json && json.error ? json.error : text.trim() || response.statusText;
    if (response.status === 401) reason += ' (open the dashboard with ?token=YOUR_ADMIN_TOKEN)';
    throw new ApiError(response.status, `${method} ${path} → ${response.status}: ${reason}`, json);
  }
  if (json === null) throw new ApiError(response.status, `${method} ${path} → ${response.status}: not JSON`);
  return json;
}

// Endpoint addresses keep their ':' readable; everything else in a segment is escaped.
const segment = (value) => encodeURIComponent(value).replaceAll('%3A', ':');

export const api = {
  stats: () => call('GET', '/stats'),
  listeners: () => call('GET', '/listeners'),
  routes: () => call('GET', '/routes'),
  clusters: () => call('GET', '/clusters'),
  history: () => call('GET', '/stats/history'),
  events: (limit) => call('GET', `/events?limit=${limit}`),
  blocks: () => call('GET', '/blocks'),
  /** action: drain | disable | enable; resolves to the updated endpoint. */
  endpoint: (cluster, address, action) =>
    call('POST', `/clusters/${segment(cluster)}/endpoints/${segment(address)}/${action}`),
  reload: () => call('POST', '/reload'),
  gateway: () => call('GET', '/gateway'),
  cache: () => call('GET', '/cache'),
};
