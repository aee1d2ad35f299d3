// The history section: filters (dates, cashier, member, type, state), the operations newest first in
// keyset pages ("Show older"), one operation's details with its queue events, and the CSV export of
// what the filters select. The filters survive a reload of the tab; the list follows the till live.
import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { problemText, useManager, type Manager } from './context.ts';
import { ScrollBox } from './scroll-box.tsx';
import { downloadCsv } from './csv-download.ts';
import { formats } from './format.ts';
import {
  filtersProblem,
  historyParams,
  NO_FILTERS,
  OPERATION_STATES,
  OPERATION_TYPES,
  type HistoryFilters,
} from './query.ts';
import { HistoryPageSchema, OperationDetailSchema, type Operation, type OperationDetail } from './schemas.ts';
import { historyVersion } from './state.ts';

const FILTERS_KEY = 'tillback.manager.filters';
const PAGE = 50;

function keptFilters(): HistoryFilters {
  try {
    return { ...NO_FILTERS, ...(JSON.parse(sessionStorage.getItem(FILTERS_KEY) ?? '{}') as object) };
  } catch {
    return NO_FILTERS;
  }
}

function FilterForm({ applied, onApply }: { applied: HistoryFilters; onApply(f: HistoryFilters): void }) {
  const { texts } = useManager();
  const m = texts.messages.manager;
  const [draft, setDraft] = useState(applied);
  const [problem, setProblem] = useState<string | null>(null);
  const set = (field: keyof HistoryFilters) => (e: Event) =>
    setDraft({ ...draft, [field]: (e.currentTarget as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const p = filtersProblem(draft);
    setProblem(p === 'bad_date' ? m.badDate : p === 'range_reversed' ? m.rangeReversed : null);
    if (!p) onApply(draft);
  };
  return (
    <form class="filters" onSubmit={submit} aria-labelledby="filters-title">
      <h2 id="filters-title">{m.filters}</h2>
      <div class="fields">
        <label>
          {m.from}
          <input type="date" name="from" value={draft.from} onInput={set('from')} />
        </label>
        <label>
          {m.to}
          <input type="date" name="to" value={draft.to} onInput={set('to')} />
        </label>
        <label>
          {m.cashier}
          <input name="cashier" value={draft.cashier} onInput={set('cashier')} maxLength={64} />
        </label>
        <label class="wide">
          {m.member}
          <input name="member" value={draft.member} onInput={set('member')} maxLength={200} />
        </label>
        <label>
          {m.type}
          <select name="type" value={draft.type} onChange={set('type')}>
            <option value="">{m.any}</option>
            {OPERATION_TYPES.map((t) => (
              <option key={t} value={t}>
                {m[`type_${t}`]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m.state}
          <select name="state" value={draft.state} onChange={set('state')}>
            <option value="">{m.any}</option>
            {OPERATION_STATES.map((s) => (
              <option key={s} value={s}>
                {m[`state_${s}`]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p class="error" role="alert">
        {problem}
      </p>
      <div class="actions">
        <button type="submit" class="primary">
          {m.apply} <kbd>Enter</kbd>
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft(NO_FILTERS);
            setProblem(null);
            onApply(NO_FILTERS);
          }}
        >
          {m.reset}
        </button>
      </div>
    </form>
  );
}

function Detail({ id, onClose }: { id: string; onClose(): void }) {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const [detail, setDetail] = useState<OperationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const version = historyVersion.value;
  useEffect(() => {
    manager.call(`/api/history/${encodeURIComponent(id)}`, { schema: OperationDetailSchema }).then(
      (d) => {
        setDetail(d);
        setError(null);
      },
      (e: unknown) => setError(problemText(texts, e)),
    );
  }, [id, version]);
  useLayoutEffect(() => heading.current?.focus(), [id]);
  const f = formats(texts);
  const op = detail?.operation;
  const money = (minor: number) => texts.money(minor, op?.currency ?? manager.currency);
  const row = (label: string, value: string | null | undefined) =>
    value === null || value === undefined || value === '' ? null : (
      <Fragment key={label}>
        <dt>{label}</dt>
        <dd>{value}</dd>
      </Fragment>
    );
  return (
    <section class="detail" aria-labelledby="detail-title">
      <div class="detail-head">
        <h2 id="detail-title" tabIndex={-1} ref={heading}>
          {m.detailTitle}
        </h2>
        <button type="button" onClick={onClose}>
          {m.close} <kbd>Esc</kbd>
        </button>
      </div>
      <p class="error" role="alert">
        {error}
      </p>
      {op && (
        <>
          <dl class="facts">
            {row(m.id, op.id)}
            {row(m.col_type, m[`type_${op.type}`])}
            {row(m.col_state, m[`state_${op.state}`])}
            {row(m.col_amount, money(op.amount))}
            {row(m.col_cashback, op.cashback === null ? null : money(op.cashback))}
            {row(m.col_member, op.memberRef)}
            {row(m.col_cashier, op.cashier)}
            {row(m.reference, op.reference)}
            {row(m.program, op.programId === null ? null : String(op.programId))}
            {row(m.attempts, op.attempts === null ? null : String(op.attempts))}
            {row(m.lastError, op.lastError)}
            {row(m.refusal, op.refusal)}
            {row(m.voidReason, op.voidReason)}
            {row(m.created, f.at(op.createdAt))}
            {row(m.updated, f.at(op.updatedAt))}
          </dl>
          <h3>{m.events}</h3>
          {detail.events.length === 0 ? (
            <p>{m.noEvents}</p>
          ) : (
            <ol class="events">
              {detail.events.map((e) => (
                <li key={e.seq}>
                  <time>{f.at(e.at)}</time> {kindText(manager, e.kind)}
                  {e.message && <span class="message">: {e.message}</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

/** A queue event's kind in words (an unknown one as the till named it). */
export function kindText({ texts }: Manager, kind: string): string {
  const words = (texts.messages.manager as Record<string, string>)[`kind_${kind}`];
  return words ?? kind;
}

export function OperationsTable({
  label,
  operations,
  actions,
}: {
  /** What the table is, for screen readers. */
  label: string;
  operations: Operation[];
  actions(op: Operation): ComponentChildren;
}) {
  const { texts } = useManager();
  const m = texts.messages.manager;
  const f = formats(texts);
  return (
    <ScrollBox label={label}>
      <table>
        <thead>
          <tr>
            <th scope="col">{m.col_time}</th>
            <th scope="col">{m.col_type}</th>
            <th scope="col">{m.col_state}</th>
            <th scope="col" class="num">
              {m.col_amount}
            </th>
            <th scope="col" class="num">
              {m.col_cashback}
            </th>
            <th scope="col">{m.col_member}</th>
            <th scope="col">{m.col_cashier}</th>
            <th scope="col">{m.col_actions}</th>
          </tr>
        </thead>
        <tbody>
          {operations.map((op) => (
            <tr key={op.id} data-operation={op.id}>
              <td>{f.at(op.createdAt)}</td>
              <td>{m[`type_${op.type}`]}</td>
              <td>
                <span class={`badge state-${op.state}`}>{m[`state_${op.state}`]}</span>
              </td>
              <td class="num">{texts.money(op.amount, op.currency)}</td>
              <td class="num">{op.cashback === null ? '' : texts.money(op.cashback, op.currency)}</td>
              <td class="member" dir="ltr">
                {op.memberRef}
              </td>
              <td>{op.cashier}</td>
              <td class="row-actions">{actions(op)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

export function HistorySection() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const [filters, setFilters] = useState<HistoryFilters>(keptFilters);
  const [operations, setOperations] = useState<Operation[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<string | null>(null);
  const version = historyVersion.value;

  const page = (cursor?: string) =>
    manager.call(`/api/history?${historyParams(filters, { limit: String(PAGE), cursor })}`, {
      schema: HistoryPageSchema,
    });
  useEffect(() => {
    let current = true;
    setLoading(true);
    page().then(
      (p) => {
        if (!current) return;
        setOperations(p.operations);
        setNext(p.nextCursor);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!current) return;
        setError(problemText(texts, e));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [filters, version]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeDetail();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  const closeDetail = () => {
    const id = open;
    setOpen(null);
    // Back to where the manager was: the row's Details button.
    requestAnimationFrame(() =>
      document.querySelector<HTMLButtonElement>(`[data-operation="${id}"] button`)?.focus(),
    );
  };
  const older = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const p = await page(next);
      setOperations((ops) => [...ops, ...p.operations]);
      setNext(p.nextCursor);
    } catch (e) {
      setError(problemText(texts, e));
    } finally {
      setLoading(false);
    }
  };
  const exportCsv = async () => {
    setExporting(true);
    setExported(null);
    try {
      const file = await downloadCsv(manager.token, manager.session, historyParams(filters));
      setExported(texts.fill(m.exported, { file }));
      setError(null);
    } catch (e) {
      setError(problemText(texts, e));
    } finally {
      setExporting(false);
    }
  };

  return (
    <div class="section history">
      <FilterForm
        applied={filters}
        onApply={(f) => {
          sessionStorage.setItem(FILTERS_KEY, JSON.stringify(f));
          setFilters(f);
        }}
      />
      <div class="bar">
        <h2 id="operations-title">{m.tab_history}</h2>
        <p class="count" role="status">
          {loading ? m.loading : texts.fill(m.shown, { count: formats(texts).count(operations.length) })}
        </p>
        <button type="button" onClick={exportCsv} disabled={exporting}>
          {exporting ? m.exporting : m.exportCsv}
        </button>
      </div>
      <p class="note" role="status">
        {exported}
      </p>
      <p class="error" role="alert">
        {error}
      </p>
      {open && <Detail id={open} onClose={closeDetail} />}
      {!loading && operations.length === 0 && !error ? (
        <p class="empty">{m.noOperations}</p>
      ) : (
        <OperationsTable
          label={m.tab_history}
          operations={operations}
          actions={(op) => (
            <button
              type="button"
              aria-label={`${m.details}: ${m[`type_${op.type}`]} ${texts.money(op.amount, op.currency)}`}
              onClick={() => setOpen(op.id)}
            >
              {m.details}
            </button>
          )}
        />
      )}
      {next && (
        <button type="button" class="more" onClick={older} disabled={loading}>
          {m.older}
        </button>
      )}
    </div>
  );
}
