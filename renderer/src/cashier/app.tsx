// The cashier's screen: sign-in, then the till: the status bar, and either the start of a sale or the
// flow on screen. The keyboard reaches everything: F1 to F4 choose what the sale is, digits type the
// amount, Enter starts it (and, once it ended, begins the next), Esc cancels, F8 signs out.
import { useEffect, useState } from 'preact/hooks';
import { FLOW_KINDS } from '../../../contract/till-events.ts';
import type { Texts } from '../shared/i18n.ts';
import { SignIn } from '../shared/sign-in.tsx';
import type { Actions } from './actions.ts';
import { chooseKind, clearDraft, Compose } from './compose.tsx';
import { cancelFlow, FlowView } from './flow-view.tsx';
import { ConnectionBanner, StatusBar } from './status-bar.tsx';
import { connection, dismissFlow, notice, session, shownFlow } from './state.ts';

const isField = (target: EventTarget | null) =>
  target instanceof HTMLElement && ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(target.tagName);

/** The screen's shortcuts, wherever the focus is (the fields keep Enter and Backspace for themselves). */
function useShortcuts(texts: Texts, actions: Actions): void {
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const f = shownFlow.value;
      const running = f !== null && f.outcome === null;
      const fn = /^F([1-4])$/.exec(e.key);
      if (fn) {
        e.preventDefault(); // the browser's own F1 (help), F3 (find)
        if (running) return;
        dismissFlow();
        chooseKind(FLOW_KINDS[Number(fn[1]) - 1] ?? 'earn');
      } else if (e.key === 'F8') {
        e.preventDefault();
        void actions.signOut();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        if (running) void cancelFlow(texts, actions);
        else if (f) dismissFlow();
        else clearDraft();
      } else if (e.key === 'Enter' && f && !running && !isField(e.target)) {
        e.preventDefault();
        dismissFlow();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [texts, actions]);
}

function Till({
  texts,
  currency,
  actions,
  fresh,
}: {
  texts: Texts;
  currency: string;
  actions: Actions;
  /** Signed in just now (not a reload): the last operator's finished flow is not this one's. */
  fresh: boolean;
}) {
  useShortcuts(texts, actions);
  // The sale is shown once the till said what runs on it (not the start screen, then a flow over it).
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    actions
      .refresh()
      .then(() => fresh && dismissFlow())
      .catch(() => undefined) // the banner or the next reconnect says why
      .finally(() => setLoaded(true));
  }, [actions, fresh]);
  const f = shownFlow.value;
  return (
    <>
      <StatusBar texts={texts} actions={actions} />
      <main class="till" aria-busy={!loaded}>
        {!loaded ? null : f ? (
          <FlowView texts={texts} f={f} actions={actions} />
        ) : (
          <Compose texts={texts} currency={currency} actions={actions} />
        )}
      </main>
    </>
  );
}

export function CashierApp({
  texts,
  storeName,
  currency,
  token,
  actions,
}: {
  texts: Texts;
  storeName: string;
  currency: string;
  token: string | undefined;
  actions: Actions | undefined;
}) {
  const c = texts.messages.cashier;
  const [fresh, setFresh] = useState(false);
  if (!token || !actions || connection.value === 'no_token')
    return (
      <main class="no-token">
        <h1>{`${storeName}: ${c.title}`}</h1>
        <p class="error">{texts.messages.common.noToken}</p>
      </main>
    );
  return (
    <>
      <ConnectionBanner texts={texts} />
      {session.value ? (
        <Till texts={texts} currency={currency} actions={actions} fresh={fresh} />
      ) : (
        <SignIn
          texts={texts}
          token={token}
          title={`${storeName}: ${c.title}`}
          notice={notice.value}
          onSignedIn={(s) => {
            setFresh(true);
            clearDraft(); // not the last operator's
            notice.value = null;
            session.value = s;
          }}
        />
      )}
    </>
  );
}
