// The cashier and manager screens' placeholder (they come in the next sessions, on this foundation):
// says what the screen will be, in the till's language. The page's data-screen attribute says which.
import '../shared/zod-without-eval.ts'; // first: see there
import { render } from 'preact';
import { applyLanguage, textsFor } from '../shared/i18n.ts';
import { loadSettings } from '../shared/settings.ts';
import '../shared/base.css';

const screen = document.body.dataset.screen === 'manager' ? 'manager' : 'cashier';
const settings = await loadSettings();
const texts = textsFor(settings.locale);
const p = texts.messages.placeholder;
const title = screen === 'manager' ? p.managerTitle : p.cashierTitle;
applyLanguage(texts, `${settings.storeName}: ${title}`);
const root = document.getElementById('app');
if (root)
  render(
    <main class="placeholder">
      <h1>{title}</h1>
      <p>{p.comingNext}</p>
    </main>,
    root,
  );
