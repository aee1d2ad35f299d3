// The queue section: the outbox's state live (engine online, waiting, the oldest's age, failed), the
// failed items with Retry and Void (a reason is required and kept), and the queue's event log, newest
// first, with older pages on demand.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { problemText, useLoad, useManager } from './context.ts';
import { DataTable } from './scroll-box.tsx';
import { formats } from './format.ts';
import { kindText, OperationsTable } from './history.tsx';
import {
  HistoryPageSchema,
  OperationDetailSchema,
  QueueLogSchema,
  type Operation,
  type QueueEvent,
} from './schemas.ts';
import { historyVersion, queue } from './state.ts';

function QueueNow() {
  const { texts } = useManager();
  const m = texts.messages.manager;
  const q = queue.value;
  const f = formats(texts);
  if (!q) return <p role="status">{m.loading}</p>;
  const engine = q.online === null ? m.unknown : q.online ? m.online : m.offline;
  return (
    <dl class="facts queue-now" aria-labelledby="queue-now-title">
      <dt>{m.engine}</dt>
      <dd class={q.online === false ? 'bad' : undefined}>{engine}</dd>
      <dt>{m.waiting}</dt>
      <dd>{f.count(q.waiting)}</dd>
      <dt>{m.oldest}</dt>
      <dd>{q.oldestAgeMs === null ? m.none : f.duration(q.oldestAgeMs)}</dd>
      <dt>{m.failed}</dt>
      <dd class={q.failed > 0 ? 'bad' : undefined}>{f.count(q.failed)}</dd>
    </dl>
  );
}

function VoidForm({
  op,
  onDone,
  onCancel,
}: {
  op: Operation;
  onDone(message: string): void;
  onCancel(): void;
}) {
  const manager = useManager();
  const m = manager.texts.messages.manager;
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => field.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) {
      setError(m.voidNeedsReason);
      field.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await manager.call(`/api/queue/${encodeURIComponent(op.id)}/void`, {
        body: { reason: reason.trim() },
        schema: OperationDetailSchema.pick({ operation: true }),
      });
      onDone(m.voided);
    } catch (err) {
      setError(problemText(manager.texts, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="void-form" onSubmit={submit}>
      <label>
        {m.voidReasonLabel}
        <input
          ref={field}
          name="reason"
          value={reason}
          maxLength={500}
          aria-invalid={error ? 'true' : undefined}
          onInput={(e) => setReason(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onCancel();
          }}
        />
      </label>
      <button type="submit" class="danger" disabled={busy}>
        {m.voidConfirm} <kbd>Enter</kbd>
      </button>
      <button type="button" onClick={onCancel}>
        {m.cancel} <kbd>Esc</kbd>
      </button>
      <p class="error" role="alert">
        {error}
      </p>
    </form>
  );
}

const QUEUED_TYPES = ['earn', 'refund'] as const;

function FailedItems() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  // The outbox's items are earns and refunds; a failed redeem or cash out is history only (it was
  // never queued: nothing to retry).
  const failed = useLoad(async () => {
    const pages = await Promise.all(
      QUEUED_TYPES.map((type) =>
        manager.call(`/api/history?state=failed&type=${type}&limit=100`, { schema: HistoryPageSchema }),
      ),
    );
    return pages.flatMap((p) => p.operations).sort((a, b) => b.createdAt - a.createdAt);
  }, String(historyVersion.value));
  const [voiding, setVoiding] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const retry = async (op: Operation) => {
    try {
      await manager.call(`/api/queue/${encodeURIComponent(op.id)}/retry`, {
        method: 'POST',
        schema: OperationDetailSchema.pick({ operation: true }),
      });
      setNote(m.retried);
      setError(null);
      failed.reload();
    } catch (e) {
      setError(problemText(texts, e));
    }
  };
  const ops = failed.data ?? [];
  return (
    <section aria-labelledby="failed-title">
      <h2 id="failed-title">{m.failedTitle}</h2>
      <p class="note" role="status">
        {note}
      </p>
      <p class="error" role="alert">
        {error ?? failed.error}
      </p>
      {failed.data && ops.length === 0 ? (
        <p class="empty">{m.noFailed}</p>
      ) : (
        <OperationsTable
          label={m.failedTitle}
          operations={ops}
          actions={(op) =>
            voiding === op.id ? (
              <VoidForm
                op={op}
                onCancel={() => setVoiding(null)}
                onDone={(message) => {
                  setVoiding(null);
                  setNote(message);
                  failed.reload();
                }}
              />
            ) : (
              <>
                <span class="refusal">{op.refusal ?? op.lastError}</span>
                <button type="button" class="primary-outline" onClick={() => void retry(op)}>
                  {m.retry}
                </button>
                <button type="button" class="danger-outline" onClick={() => setVoiding(op.id)}>
                  {m.void}
                </button>
              </>
            )
          }
        />
      )}
    </section>
  );
}

function QueueLog() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const f = formats(texts);
  const [older, setOlder] = useState<QueueEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await manager.call('/api/logs/queue?limit=50', { schema: QueueLogSchema });
    setOlder([]);
    setCursor(page.nextCursor);
    return page;
  }, String(historyVersion.value));
  const more = async () => {
    if (!cursor) return;
    const page = await manager.call(`/api/logs/queue?limit=50&cursor=${cursor}`, { schema: QueueLogSchema });
    setOlder((events) => [...events, ...page.events]);
    setCursor(page.nextCursor);
  };
  const events = [...(first.data?.events ?? []), ...older];
  return (
    <section aria-labelledby="queue-log-title">
      <h2 id="queue-log-title">{m.logTitle}</h2>
      <p class="error" role="alert">
        {first.error}
      </p>
      <DataTable
        label={m.logTitle}
        columns={[m.col_time, m.col_event, m.col_operation, m.col_message]}
        empty={!!first.data && events.length === 0}
        emptyText={m.noLog}
      >
        {events.map((e) => (
          <tr key={e.seq}>
            <td>{f.at(e.at)}</td>
            <td>{kindText(manager, e.kind)}</td>
            <td class="mono" dir="ltr">
              {e.operationId.slice(0, 8)}
            </td>
            <td>{e.message}</td>
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

export function QueueSection() {
  const m = useManager().texts.messages.manager;
  return (
    <div class="section queue">
      <section aria-labelledby="queue-now-title">
        <h2 id="queue-now-title">{m.queueNow}</h2>
        <QueueNow />
      </section>
      <FailedItems />
      <QueueLog />
    </div>
  );
}
