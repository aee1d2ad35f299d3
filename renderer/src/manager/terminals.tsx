// The terminals section: every terminal the till lists, live (the `devices` messages), with its kind,
// driver, link, port and state; and the device event log, of one terminal or all, newest first (what
// the till recorded: swipes with a masked card, PIN entries without the PIN, unplugs, notices).
import { useEffect, useState } from 'preact/hooks';
import type { DeviceSummary } from '../../../contract/till-events.ts';
import { problemText, useLoad, useManager } from './context.ts';
import { DataTable } from './scroll-box.tsx';
import { formats } from './format.ts';
import { DeviceLogSchema, DevicesSchema, type DeviceEvent } from './schemas.ts';
import { devices } from './state.ts';

/** A log entry's details as "key: value" pairs, the way the till recorded them. */
export function summaryText(summary: Record<string, unknown>): string {
  return Object.entries(summary)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

function DeviceLog({ device, name }: { device: string | null; name: string }) {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const f = formats(texts);
  const [older, setOlder] = useState<DeviceEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const query = device ? `device=${encodeURIComponent(device)}&limit=50` : 'limit=50';
  // The log grows with the terminals' events: read again whenever the list of terminals changes.
  const first = useLoad(
    async () => {
      const page = await manager.call(`/api/logs/devices?${query}`, { schema: DeviceLogSchema });
      setOlder([]);
      setCursor(page.nextCursor);
      return page;
    },
    `${query} ${JSON.stringify(devices.value)}`,
  );
  const more = async () => {
    if (!cursor) return;
    const page = await manager.call(`/api/logs/devices?${query}&cursor=${cursor}`, {
      schema: DeviceLogSchema,
    });
    setOlder((e) => [...e, ...page.events]);
    setCursor(page.nextCursor);
  };
  const events = [...(first.data?.events ?? []), ...older];
  const title = device ? texts.fill(m.logOf, { device: name }) : m.allLog;
  return (
    <section aria-labelledby="device-log-title">
      <h2 id="device-log-title" tabIndex={-1}>
        {title}
      </h2>
      <p class="error" role="alert">
        {first.error}
      </p>
      <DataTable
        label={title}
        labelledBy="device-log-title"
        columns={[m.col_time, m.col_terminal, m.col_event, m.col_details]}
        empty={!!first.data && events.length === 0}
        emptyText={m.noLog}
      >
        {events.map((e) => (
          <tr key={e.seq}>
            <td>{f.at(e.at)}</td>
            <td class="mono" dir="ltr">
              {e.deviceId ?? m.notice}
            </td>
            <td class="mono" dir="ltr">
              {e.type}
            </td>
            <td class="details" dir="ltr">
              {summaryText(e.summary)}
            </td>
          </tr>
        ))}
      </DataTable>
      {cursor && (
        <button type="button" class="more" onClick={() => void more()}>
          {m.olderEvents}
        </button>
      )}
    </section>
  );
}

export function TerminalsSection() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    manager.call('/api/devices', { schema: DevicesSchema }).then(
      (d) => {
        devices.value = d.devices;
      },
      (e: unknown) => setError(problemText(texts, e)),
    );
  }, []);
  const list: DeviceSummary[] = devices.value ?? [];
  const show = (id: string | null) => {
    setSelected(id);
    requestAnimationFrame(() => document.getElementById('device-log-title')?.focus());
  };
  return (
    <div class="section terminals">
      <h2 id="terminals-title">{m.terminalsTitle}</h2>
      <p class="error" role="alert">
        {error}
      </p>
      <DataTable
        label={m.terminalsTitle}
        labelledBy="terminals-title"
        columns={[m.col_terminal, m.col_kind, m.col_link, m.col_path, m.col_state, m.col_actions]}
        empty={!!devices.value && list.length === 0}
        emptyText={m.noTerminals}
      >
        {list.map((d) => (
          <tr key={d.id} data-device={d.id} aria-current={d.id === selected ? 'true' : undefined}>
            <th scope="row" dir="ltr">
              {d.label ?? d.id}
              {d.product && <span class="sub"> {d.product}</span>}
            </th>
            <td>
              {m[`kind_${d.kind}`]}
              {d.driver && (
                <span class="sub mono" dir="ltr">
                  {' '}
                  {d.driver}
                </span>
              )}
            </td>
            <td class="mono">{d.link}</td>
            <td class="mono" dir="ltr">
              {d.path}
            </td>
            <td>
              <span class={`badge dev-${d.state}`}>{m[`dev_${d.state}`]}</span>
            </td>
            <td>
              <button
                type="button"
                onClick={() => show(d.id)}
                aria-label={`${m.showLog}: ${d.label ?? d.id}`}
              >
                {m.showLog}
              </button>
            </td>
          </tr>
        ))}
      </DataTable>
      {selected && (
        <button type="button" onClick={() => show(null)}>
          {m.showAll}
        </button>
      )}
      <DeviceLog device={selected} name={list.find((d) => d.id === selected)?.label ?? selected ?? ''} />
    </div>
  );
}
