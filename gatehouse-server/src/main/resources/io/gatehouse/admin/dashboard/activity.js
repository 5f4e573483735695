// What happened lately: the event log (health transitions, ejections, reloads, admin actions) and the reload panel.
import { h, setText } from './dom.js';
import { clock } from './format.js';

/** Renders GET /events into a list, newest first. */
export function renderEvents(list, events) {
  if (events.length === 0) {
    list.replaceChildren(h('li', { class: 'muted' }, 'nothing yet'));
    return;
  }
  list.replaceChildren(...events.map((event) => {
    const where = [event.cluster, event.endpoint].filter(Boolean).join(' / ');
    return h('li', { class: `event kind-${event.kind}`, 'data-kind': event.kind },
      h('time', { datetime: event.time, title: event.time }, clock(event.time)),
      h('span', { class: 'badge' }, event.kind),
      where ? h('span', { class: 'where' }, where) : null,
      h('span', { class: 'message' }, event.message));
  }));
}

/** The last reload as /stats reports it, and a button to reload the config file now. */
export class ReloadPanel {
  constructor(container, onReload) {
    this.last = h('p', { class: 'last-reload', 'data-field': 'last_reload' });
    this.result = h('p', { class: 'result', role: 'status', 'aria-live': 'polite', hidden: true });
    this.button = h('button', { type: 'button', 'data-action': 'reload' }, 'reload config');
    this.button.addEventListener('click', () => this.reload(onReload));
    this.file = h('span', { class: 'muted', 'data-field': 'config_file' });
    container.append(h('div', { class: 'reload-bar' }, this.button, this.file), this.last, this.result);
  }

  update(stats) {
    setText(this.file, stats.config_file ? `from ${stats.config_file}` : 'started without a config file');
    const last = stats.last_reload;
    if (!last) {
      this.last.className = 'last-reload muted';
      setText(this.last, 'no reload since start');
      return;
    }
    this.last.className = `last-reload ${last.result}`;
    const text = `last reload ${clock(last.time)} (${last.source}): ${last.result}`;
    setText(this.last, last.error ? `${text} — ${last.error}` : text);
  }

  async reload(onReload) {
    this.button.disabled = true;
    this.result.hidden = false;
    this.result.className = 'result pending';
    setText(this.result, 'reloading…');
    try {
      const answer = await onReload();
      this.result.className = 'result ok';
      setText(this.result, `reload ${answer.result || 'done'}`);
    } catch (e) {
      this.result.className = 'result error';
      setText(this.result, e.body && e.body.result === 'refused' ? `reload refused: ${e.body.error}` : e.message);
    } finally {
      this.button.disabled = false;
    }
  }
}
