// The status bar, always on screen: the engine online or offline, the operations queued (and failed),
// the terminals connected, and who is signed in, with Sign out (F8). A lost connection to the till is
// a banner across the screen (see ConnectionBanner).
import type { Texts } from '../shared/i18n.ts';
import type { Actions } from './actions.ts';
import { connection, devices, queue, session } from './state.ts';
import { terminalCounts } from './terminals.ts';

export function StatusBar({ texts, actions }: { texts: Texts; actions: Actions }) {
  const c = texts.messages.cashier;
  // What the till said last is not current while the connection is down: shown as not known.
  const live = connection.value === 'open';
  const q = live ? queue.value : null;
  const online = q?.online;
  const engine = online === true ? 'online' : online === false ? 'offline' : 'unknown';
  const engineText = { online: c.engineOnline, offline: c.engineOffline, unknown: c.engineUnknown }[engine];
  const list = live ? devices.value : null;
  const counts = list ? terminalCounts(list) : null;
  const op = session.value?.operator;
  return (
    <header class="status-bar" aria-label={c.statusBar}>
      <dl>
        <div class="status-item" data-engine={engine}>
          <dt>{c.engine}</dt>
          <dd>{engineText}</dd>
        </div>
        <div class="status-item" data-queued={q?.waiting ?? ''}>
          <dt>{c.queued}</dt>
          <dd>
            {q ? String(q.waiting) : '…'}
            {q && q.failed > 0 && (
              <span class="failed"> · {texts.fill(c.queuedFailed, { count: String(q.failed) })}</span>
            )}
          </dd>
        </div>
        <div
          class="status-item"
          data-terminals={counts ? `${counts.connected}/${counts.total}` : ''}
          data-all-connected={counts ? String(counts.connected === counts.total) : undefined}
        >
          <dt>{c.terminals}</dt>
          <dd>
            {!counts
              ? '…'
              : counts.total === 0
                ? c.terminalsNone
                : texts.fill(c.terminalsConnected, {
                    connected: String(counts.connected),
                    total: String(counts.total),
                  })}
            {counts?.down.map((d) => (
              <span key={d.name} class="down">
                {' · '}
                {texts.fill(c.terminalDown, { name: d.name, state: c[`device_${d.state}`] })}
              </span>
            ))}
          </dd>
        </div>
      </dl>
      {op && (
        <div class="operator">
          <span data-operator={op.name}>
            {texts.fill(c.operator, { name: op.name, role: c[`role_${op.role}`] })}
          </span>
          <button type="button" onClick={() => void actions.signOut()} aria-keyshortcuts="F8">
            {c.signOut} <kbd>F8</kbd>
          </button>
        </div>
      )}
    </header>
  );
}

/** Across the screen while the till cannot be reached (or refused this screen's link). */
export function ConnectionBanner({ texts }: { texts: Texts }) {
  const c = texts.messages.cashier;
  const state = connection.value;
  if (state !== 'reconnecting' && state !== 'refused') return null;
  return (
    <div class={`banner banner-${state}`} role="alert" data-connection={state}>
      {state === 'refused' ? c.tillRefused : c.tillLost}
    </div>
  );
}
