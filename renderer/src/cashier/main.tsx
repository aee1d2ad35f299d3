// The cashier screen's entry: settings and texts, the launch token, the operator's kept session, the
// event stream (every reconnect re-reads the flow and the terminals: messages may have been missed).
import '../shared/zod-without-eval.ts'; // first: see there
import { render } from 'preact';
import { keptSession } from '../shared/api.ts';
import { connectEvents } from '../shared/events.ts';
import { applyLanguage, textsFor } from '../shared/i18n.ts';
import { forgetLaunch, getLaunch } from '../shared/launch.ts';
import { loadSettings } from '../shared/settings.ts';
import { createActions } from './actions.ts';
import { CashierApp } from './app.tsx';
import { connection, onMessage, session } from './state.ts';
import '../shared/base.css';
import './cashier.css';

const [settings, launch] = await Promise.all([loadSettings(), getLaunch()]);
const texts = textsFor(settings.locale);
applyLanguage(texts, `${settings.storeName}: ${texts.messages.cashier.title}`);
session.value = keptSession();
const actions = launch ? createActions(launch.token, texts.messages.cashier.sessionLost) : undefined;

const root = document.getElementById('app');
if (root)
  render(
    <CashierApp
      texts={texts}
      storeName={settings.storeName}
      currency={settings.currency}
      token={launch?.token}
      actions={actions}
    />,
    root,
  );

if (!launch || !actions) connection.value = 'no_token';
else
  connectEvents({
    token: launch.token,
    onMessage: (message) => {
      onMessage(message);
      if (message.type === 'ready' && session.value) void actions.refresh().catch(() => undefined);
    },
    onState: (state) => {
      if (state === 'refused') forgetLaunch();
      connection.value = state;
    },
  });
