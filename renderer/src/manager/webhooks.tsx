// The webhooks section: the engine's deliveries to other systems, newest first, through the till (the
// screen holds no engine key), filtered by status, each with its attempts, last result and next try,
// and "Send again". When the engine cannot be reached, or does not let the till see them, it says so.
import { useState } from 'preact/hooks';
import { problemText, useLoad, useManager } from './context.ts';
import { DataTable } from './scroll-box.tsx';
import { formats } from './format.ts';
import { DeliveriesSchema, type Delivery } from './schemas.ts';

const STATUSES = ['pending', 'delivered', 'failed'] as const;

export function WebhooksSection() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const f = formats(texts);
  const [status, setStatus] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = status ? `?status=${status}&limit=100` : '?limit=100';
  const list = useLoad(
    () => manager.call(`/api/webhooks/deliveries${query}`, { schema: DeliveriesSchema }),
    query,
  );
  const resend = async (d: Delivery) => {
    try {
      await manager.call(`/api/webhooks/deliveries/${d.delivery_id}/resend`, { method: 'POST' });
      setNote(m.resent);
      setError(null);
      list.reload();
    } catch (e) {
      setError(problemText(texts, e));
    }
  };
  const last = (d: Delivery) =>
    d.last_status_code !== null
      ? texts.fill(m.httpStatus, { code: String(d.last_status_code) })
      : (d.last_error ?? '');
  const deliveries = list.data?.deliveries ?? [];
  return (
    <div class="section webhooks">
      <div class="bar">
        <h2 id="webhooks-title">{m.webhooksTitle}</h2>
        <label>
          {m.status}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{m.any}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {m[`wh_${s}`]}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={list.reload}>
          {m.refresh}
        </button>
      </div>
      <p class="hint">{m.webhooksHint}</p>
      <p class="note" role="status">
        {list.loading ? m.loading : note}
      </p>
      <p class="error" role="alert">
        {error ?? list.error}
      </p>
      <DataTable
        label={m.webhooksTitle}
        labelledBy="webhooks-title"
        columns={[
          m.col_created,
          m.col_event,
          m.col_endpoint,
          m.status,
          { label: m.col_attempts, num: true },
          m.col_last,
          m.col_next,
          m.col_actions,
        ]}
        empty={!!list.data && deliveries.length === 0}
        emptyText={m.noDeliveries}
      >
        {deliveries.map((d) => (
          <tr key={d.delivery_id} data-delivery={d.delivery_id}>
            <td>{f.at(d.created_at)}</td>
            <td class="mono" dir="ltr">
              {d.event_type}
            </td>
            <td class="mono url" dir="ltr">
              {d.url}
            </td>
            <td>
              <span class={`badge wh-${d.status}`}>{m[`wh_${d.status}`]}</span>
            </td>
            <td class="num">{f.count(d.attempts)}</td>
            <td>{last(d)}</td>
            <td>{d.next_attempt_at ? f.at(d.next_attempt_at) : ''}</td>
            <td>
              <button type="button" onClick={() => void resend(d)}>
                {m.resend}
              </button>
            </td>
          </tr>
        ))}
      </DataTable>
    </div>
  );
}
