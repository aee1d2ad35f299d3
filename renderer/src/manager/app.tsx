// The manager's screen: sign-in by a manager's PIN, then six sections in a tab bar (history, day totals,
// queue, webhooks, terminals, settings), each opened by a click, the keys 1 to 6, or the arrows in the
// bar. The open section and this tab's session survive a reload; a lost session signs in again.
import type { ComponentType } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  apiFetch,
  forgetSession,
  isSessionLost,
  keptSession,
  signOut,
  type ApiInit,
  type Session,
} from '../shared/api.ts';
import type { Texts } from '../shared/i18n.ts';
import { SignIn } from '../shared/sign-in.tsx';
import { ManagerContext, type Manager } from './context.ts';
import { HistorySection } from './history.tsx';
import { QueueSection } from './queue.tsx';
import { SettingsSection } from './settings.tsx';
import { HistoryPageSchema } from './schemas.ts';
import { connection, tillZone } from './state.ts';
import { TerminalsSection } from './terminals.tsx';
import { TotalsSection } from './totals.tsx';
import { WebhooksSection } from './webhooks.tsx';

const TABS = ['history', 'totals', 'queue', 'webhooks', 'terminals', 'settings'] as const;
type Tab = (typeof TABS)[number];
const SECTIONS: Record<Tab, ComponentType> = {
  history: HistorySection,
  totals: TotalsSection,
  queue: QueueSection,
  webhooks: WebhooksSection,
  terminals: TerminalsSection,
  settings: SettingsSection,
};
const TAB_KEY = 'tillback.manager.tab';

const keptTab = (): Tab => {
  const kept = sessionStorage.getItem(TAB_KEY);
  return (TABS as readonly string[]).includes(kept ?? '') ? (kept as Tab) : 'history';
};
const managerSession = (): Session | undefined => {
  const s = keptSession();
  return s?.operator.role === 'manager' ? s : undefined;
};

function Tabs({ texts, tab, onTab }: { texts: Texts; tab: Tab; onTab(tab: Tab): void }) {
  const m = texts.messages.manager;
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const go = (index: number) => {
    const next = TABS[(index + TABS.length) % TABS.length];
    if (!next) return;
    onTab(next);
    refs.current[TABS.indexOf(next)]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const i = TABS.indexOf(tab);
    // In a right-to-left page the next section is to the left.
    const forward = texts.dir === 'rtl' ? 'ArrowLeft' : 'ArrowRight';
    const back = texts.dir === 'rtl' ? 'ArrowRight' : 'ArrowLeft';
    if (e.key === forward) go(i + 1);
    else if (e.key === back) go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(TABS.length - 1);
    else return;
    e.preventDefault();
  };
  return (
    <div class="tabs" role="tablist" aria-label={m.tabs} onKeyDown={onKeyDown}>
      {TABS.map((t, i) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${t}`}
          aria-selected={t === tab}
          aria-controls={`panel-${t}`}
          tabIndex={t === tab ? 0 : -1}
          onClick={() => onTab(t)}
        >
          {m[`tab_${t}`]} <kbd>{i + 1}</kbd>
        </button>
      ))}
    </div>
  );
}

function Shell({
  texts,
  token,
  session,
  storeName,
  currency,
  onSignedOut,
}: {
  texts: Texts;
  token: string;
  session: Session;
  storeName: string;
  currency: string;
  onSignedOut(lost: boolean): void;
}) {
  const m = texts.messages.manager;
  const [tab, setTab] = useState<Tab>(keptTab);
  const open = (t: Tab) => {
    sessionStorage.setItem(TAB_KEY, t);
    setTab(t);
  };
  useEffect(() => {
    // Plain digits (browsers keep Alt and Ctrl with digits for their own tabs), except while typing.
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if ((e.target as Element | null)?.closest('input, select, textarea')) return;
      const index = Number(e.key) - 1;
      const t = TABS[index];
      if (!t) return;
      e.preventDefault();
      open(t);
      document.getElementById(`tab-${t}`)?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const manager = useMemo<Manager>(
    () => ({
      texts,
      token,
      session: session.session,
      currency,
      call: async <T,>(path: string, init?: ApiInit<T>) => {
        try {
          return await apiFetch<T>(token, session.session, path, init);
        } catch (error) {
          if (isSessionLost(error)) {
            forgetSession();
            onSignedOut(true);
          }
          throw error;
        }
      },
    }),
    [texts, token, session, currency, onSignedOut],
  );
  useEffect(() => {
    // The till's time zone, which every page of the history carries: times read in the till's days.
    manager.call('/api/history?limit=1', { schema: HistoryPageSchema }).then(
      (page) => {
        tillZone.value = page.timeZone;
      },
      () => undefined, // the sections say what is wrong; times then read in this machine's zone
    );
  }, [manager]);
  const Section = SECTIONS[tab];
  const live = connection.value;
  return (
    <ManagerContext.Provider value={manager}>
      <header class="top">
        <h1>
          {storeName}: {m.title}
        </h1>
        <p class="who">{texts.fill(m.operator, { name: session.operator.name })}</p>
        <p class={`live live-${live === 'open' ? 'on' : 'off'}`} role="status">
          {live === 'open' ? m.live : m.liveLost}
        </p>
        <button
          type="button"
          onClick={() => {
            void signOut(token, session).finally(() => onSignedOut(false));
          }}
        >
          {m.signOut}
        </button>
        <Tabs texts={texts} tab={tab} onTab={open} />
        <p class="hint shortcuts">{m.shortcuts}</p>
      </header>
      <main class="panel">
        <div id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
          <Section />
        </div>
      </main>
    </ManagerContext.Provider>
  );
}

export function ManagerApp({
  texts,
  token,
  storeName,
  currency,
}: {
  texts: Texts;
  token: string | undefined;
  storeName: string;
  currency: string;
}) {
  const m = texts.messages.manager;
  const c = texts.messages.common;
  const [session, setSession] = useState<Session | undefined>(managerSession);
  const [note, setNote] = useState<string | null>(null);
  const onSignedOut = useMemo(
    () => (lost: boolean) => {
      setNote(lost ? m.sessionLost : null);
      setSession(undefined);
    },
    [m],
  );
  if (!token || connection.value === 'refused')
    return (
      <main class="sign-in">
        <h1>{m.title}</h1>
        <p class="error" role="alert">
          {token ? `${c.refused} ${c.refusedHint}` : c.noToken}
        </p>
      </main>
    );
  if (!session)
    return (
      <>
        {note && (
          <p class="note" role="status">
            {note}
          </p>
        )}
        <SignIn
          texts={texts}
          token={token}
          title={`${storeName}: ${m.title}`}
          role="manager"
          onSignedIn={(s) => {
            setNote(null);
            setSession(s);
          }}
        />
      </>
    );
  return (
    <Shell
      texts={texts}
      token={token}
      session={session}
      storeName={storeName}
      currency={currency}
      onSignedOut={onSignedOut}
    />
  );
}
