// The "System" card: every block behind the edge (app instances, PostgreSQL primary and replica with its lag, Redis,
// ZooKeeper) with its health, as the process that started them reports it on GET /blocks (gatehouse up does). The
// edge's own clusters are the cards below; a plain `gatehouse run` reports no blocks and the card stays hidden.
import { h } from './dom.js';

const BADGE = { up: 'state-healthy', degraded: 'state-ejected', down: 'state-unhealthy' };

/** Replaces the card's table with `blocks` ({name, engine, address, health, state}); hides the card when empty. */
export function renderBlocks(card, table, blocks) {
  card.hidden = blocks.length === 0;
  if (card.hidden) return;
  const rows = blocks.map((b) => h('tr', { 'data-block': b.name, 'data-health': b.health },
    h('td', null, b.name),
    h('td', null, h('span', { class: `badge ${BADGE[b.health] || 'state-disabled'}` }, b.health)),
    h('td', { class: 'muted' }, b.engine),
    h('td', null, h('code', null, b.address)),
    h('td', null, b.state)));
  table.replaceChildren(
    h('thead', null, h('tr', null, ...['block', 'health', 'engine', 'address', 'state'].map((t) => h('th', null, t)))),
    h('tbody', null, ...rows));
}
