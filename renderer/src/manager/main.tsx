// The manager's screen's entry: settings and texts, the launch token, the event stream, the app.
import '../shared/zod-without-eval.ts'; // first: see there
import { render } from 'preact';
import { connectEvents } from '../shared/events.ts';
import { applyLanguage, textsFor } from '../shared/i18n.ts';
import { forgetLaunch, getLaunch } from '../shared/launch.ts';
import { loadSettings } from '../shared/settings.ts';
import { ManagerApp } from './app.tsx';
import { connection, onMessage } from './state.ts';
import '../shared/base.css';
import './manager.css';

const [settings, launch] = await Promise.all([loadSettings(), getLaunch()]);
const texts = textsFor(settings.locale);
applyLanguage(texts, `${settings.storeName}: ${texts.messages.manager.title}`);
const root = document.getElementById('app');
if (root)
  render(
    <ManagerApp
      texts={texts}
      token={launch?.token}
      storeName={settings.storeName}
      currency={settings.currency}
    />,
    root,
  );

if (launch)
  connectEvents({
    token: launch.token,
    onMessage,
    onState: (state) => {
      if (state === 'refused') forgetLaunch();
      connection.value = state;
    },
  });
