// The store interface every backend implements (SQLite embedded now, PostgreSQL for a chain later).
// Domain code talks only to `Tx`, with portable SQL: `?` placeholders (the PostgreSQL backend numbers
// them), `INSERT ... RETURNING`, `ON CONFLICT`, integers for money and epoch milliseconds for time.
export type SqlValue = string | number | bigint | null;

export interface RunResult {
  changes: number;
}

export interface Tx {
  /** ' FOR UPDATE' where the backend needs row locks before a balance check; '' where writers are serialized. */
  readonly forUpdate: string;
  one<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Like `one`, for statements that always yield a row (INSERT ... RETURNING, COUNT). */
  row<T>(sql: string, params?: readonly SqlValue[]): Promise<T>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `work` in a write transaction and resolves once it is durable. A throw rolls back this work
   * only. Work must not await anything but its own `tx` calls: it may share a commit with others.
   */
  transact<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `work` on a consistent read snapshot. */
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
