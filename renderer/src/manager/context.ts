// What every section of the manager's screen gets: the texts, the till's call with this manager's
// session, and how to say a refusal in words. A lost session (expired, or the till restarted) sends
// the screen back to sign-in, once, from wherever it was noticed.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, UNREACHABLE, type ApiInit } from '../shared/api.ts';
import type { Texts } from '../shared/i18n.ts';

export interface Manager {
  texts: Texts;
  token: string;
  session: string;
  /** The program's currency: what the chart and the limits are read in. */
  currency: string;
  call<T = undefined>(path: string, init?: ApiInit<T>): Promise<T>;
}

export const ManagerContext = createContext<Manager | null>(null);

export function useManager(): Manager {
  const m = useContext(ManagerContext);
  if (!m) throw new Error('useManager outside the manager screen');
  return m;
}

/** A refusal of the till (or of the engine behind it) in words. */
export function problemText(texts: Texts, error: unknown): string {
  const m = texts.messages.manager;
  if (!(error instanceof ApiError)) return texts.fill(m.error, { message: String(error) });
  switch (error.code) {
    case UNREACHABLE:
      return m.unreachable;
    case 'engine_unreachable':
    case 'engine_timeout':
      return texts.fill(m.engineUnreachable, { message: error.message });
    case 'engine_forbidden':
      return texts.fill(m.engineForbidden, { message: error.message });
    case 'last_manager':
      return m.lastManager;
    case 'operator_exists':
      return m.operatorExists;
    default:
      return texts.fill(m.error, { message: error.message });
  }
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload(): void;
}

/** Loads with `load` when `key` changes (and on reload()); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { texts } = useManager();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
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
    // `load` is a new closure every render: `key` says when what it loads changed.
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, loading, reload };
}
