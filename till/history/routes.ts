// The manager's routes of the local history (a LocalApiRoutes module for till/api/server.ts): the
// operations list with filters and keyset pages, one operation with its queue events, day totals, the
// streamed CSV export, the device and queue event logs, and the queue actions retry and void. Every
// handler checks the manager's session first, so a refused request reads and changes nothing.
import { z } from 'zod';
import { ApiError } from '../api/errors.ts';
import type { LocalApiRoutes } from '../api/server.ts';
import type { Outbox } from '../outbox/outbox.ts';
import { csvFilename, historyCsv } from './csv.ts';
import { isTimeZone, localDate, processTimeZone } from './days.ts';
import { filterQuery, ORDERED_RANGE_MESSAGE, orderedRange, queryInt } from './filters.ts';
import {
  cursorQuery,
  DEFAULT_LIMIT,
  encodeCursor,
  historyPage,
  historyRow,
  MAX_LIMIT,
  refusal,
  type HistoryRow,
} from './list.ts';
import { deviceLog, queueLog } from './log-pages.ts';
import { dayTotals, totalsRange, TotalsRangeError } from './totals.ts';

export interface HistoryRoutesOptions {
  outbox: Outbox;
  /** The IANA zone whose calendar days the filters and totals use; the process's by default. */
  timeZone?: string | undefined;
}

const limit = queryInt(1, MAX_LIMIT).optional();
const FiltersQuerySchema = z.object(filterQuery).strict().refine(orderedRange, ORDERED_RANGE_MESSAGE);
const ListQuerySchema = z
  .object({ ...filterQuery, limit, cursor: cursorQuery.optional() })
  .strict()
  .refine(orderedRange, ORDERED_RANGE_MESSAGE);
const logPageQuery = { limit, cursor: queryInt(1, Number.MAX_SAFE_INTEGER).optional() };
const DeviceLogQuerySchema = z
  .object({ device: z.string().min(1).max(200).optional(), ...logPageQuery })
  .strict();
const QueueLogQuerySchema = z
  .object({ operation: z.string().min(1).max(64).optional(), ...logPageQuery })
  .strict();
const IdParamsSchema = z.object({ id: z.string().min(1).max(64) }).strict();
const VoidBodySchema = z.object({ reason: z.string().trim().min(1).max(500) }).strict();

function parseAnswer(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** An operation as the API shows it: the engine's answer parsed when delivered, its refusal apart. */
function operationView(r: HistoryRow) {
  const { result, ...rest } = r;
  return { ...rest, answer: r.state === 'delivered' ? parseAnswer(result) : null, refusal: refusal(r) };
}

export function historyRoutes(options: HistoryRoutesOptions): LocalApiRoutes {
  const zone = options.timeZone ?? processTimeZone();
  if (!isTimeZone(zone)) throw new RangeError(`unknown time zone ${JSON.stringify(zone)}`);
  const { outbox } = options;
  const { store } = outbox;

  return ({ app, operator, parse, publish, now }) => {
    const off = outbox.onOperation((e) =>
      publish({ type: 'history_changed', operationId: e.id, kind: e.kind, at: e.at }),
    );
    app.addHook('onClose', async () => off());

    const operation = async (id: string) => {
      const row = await store.read((tx) => historyRow(tx, id));
      if (!row) throw new ApiError(404, 'not_found', `No operation ${id}`);
      return operationView(row);
    };

    app.get('/api/history', async (req) => {
      await operator(req, 'manager');
      const q = parse(ListQuerySchema, req.query);
      const page = await store.read((tx) =>
        historyPage(tx, q, zone, { limit: q.limit ?? DEFAULT_LIMIT, after: q.cursor }),
      );
      return {
        timeZone: zone,
        operations: page.rows.map(operationView),
        nextCursor: page.next && encodeCursor(page.next),
      };
    });

    app.get('/api/history/totals', async (req) => {
      await operator(req, 'manager');
      const q = parse(FiltersQuerySchema, req.query);
      let range;
      try {
        range = totalsRange(q, localDate(now(), zone));
      } catch (e) {
        if (e instanceof TotalsRangeError) throw new ApiError(400, 'validation_error', e.message);
        throw e;
      }
      return store.read((tx) => dayTotals(tx, q, zone, range));
    });

    app.get('/api/history/:id', async (req) => {
      await operator(req, 'manager');
      const { id } = parse(IdParamsSchema, req.params);
      const op = await operation(id);
      const events = await store.read((tx) => queueLog(tx, id, { limit: MAX_LIMIT }));
      return { operation: op, events: events.events };
    });

    app.get('/api/history.csv', async (req, reply) => {
      await operator(req, 'manager');
      const q = parse(FiltersQuerySchema, req.query);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${csvFilename(localDate(now(), zone))}"`)
        .header('cache-control', 'no-store')
        .send(historyCsv(store, q, zone));
    });

    app.get('/api/logs/devices', async (req) => {
      await operator(req, 'manager');
      const q = parse(DeviceLogQuerySchema, req.query);
      const page = await store.read((tx) =>
        deviceLog(tx, q.device, { limit: q.limit ?? DEFAULT_LIMIT, before: q.cursor }),
      );
      return { events: page.events, nextCursor: page.next === null ? null : String(page.next) };
    });

    app.get('/api/logs/queue', async (req) => {
      await operator(req, 'manager');
      const q = parse(QueueLogQuerySchema, req.query);
      const page = await store.read((tx) =>
        queueLog(tx, q.operation, { limit: q.limit ?? DEFAULT_LIMIT, before: q.cursor }),
      );
      return { events: page.events, nextCursor: page.next === null ? null : String(page.next) };
    });

    app.post('/api/queue/:id/retry', async (req) => {
      await operator(req, 'manager');
      const { id } = parse(IdParamsSchema, req.params);
      await outbox.retry(id);
      return { operation: await operation(id) };
    });

    app.post('/api/queue/:id/void', async (req) => {
      await operator(req, 'manager');
      const { id } = parse(IdParamsSchema, req.params);
      const { reason } = parse(VoidBodySchema, req.body);
      await outbox.void(id, reason);
      return { operation: await operation(id) };
    });
  };
}
