// The screens' addresses on the local API: /cashier, /display and /manager. The screens themselves
// come with issue 6; until then each path answers a short page saying what the screen will be and the
// API calls it will make, so the URLs browser mode prints already lead somewhere true. The pages hold
// no data, so they answer without the launch token (the screens will read it from the URL's fragment).
import type { LocalApiRoutes } from './api/server.ts';

interface Screen {
  path: string;
  title: string;
  what: string;
  calls: string[];
}

export const SCREENS: readonly Screen[] = [
  {
    path: '/cashier',
    title: 'Cashier',
    what: 'The cashier signs in with a PIN, enters an amount, identifies the member (card swipe, scanned member code, phone or email) and sees each earn, redeem, refund and cashout through to its result.',
    calls: [
      'POST /api/operators/sign-in {"name","pin"}',
      'POST /api/earn, POST /api/refund',
      'GET /api/queue',
      'WebSocket /api/events (first message {"type":"auth","token"})',
    ],
  },
  {
    path: '/display',
    title: 'Customer display',
    what: 'Faces the customer: the amount, the cashback earned, prompts for the PIN pad, and the QR code and URL of a cashout claim.',
    calls: [
      'WebSocket /api/events (the launch token, or a paired display token)',
      'POST /api/displays/pair {"code","name"} (a display on another device)',
    ],
  },
  {
    path: '/manager',
    title: 'Manager',
    what: 'Operators, the offline queue (retry or void a refused operation), the history with its filters, day totals and CSV export, and the device and queue event logs.',
    calls: [
      'GET /api/operators, POST /api/operators {"name","role","pin"}',
      'GET /api/queue',
      'POST /api/displays/pairing-code',
    ],
  },
];

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

export function screenPage(screen: Screen): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tillback: ${escape(screen.title)}</title></head>
<body>
<h1>${escape(screen.title)} screen</h1>
<p>Not built yet: it arrives with the till's screens (issue 6). ${escape(screen.what)}</p>
<p>Until then, the same through the local API (every call with <code>Authorization: Bearer &lt;launch token&gt;</code>, operator calls also with <code>X-Operator-Session</code>):</p>
<ul>
${screen.calls.map((c) => `<li><code>${escape(c)}</code></li>`).join('\n')}
</ul>
<p>See till/README.md (Local API, Browser mode).</p>
</body>
</html>
`;
}

export const screenRoutes: LocalApiRoutes = ({ app }) => {
  for (const screen of SCREENS) {
    app.get(screen.path, { config: { launchToken: false } }, async (_req, reply) =>
      reply
        .header('content-security-policy', "default-src 'none'")
        .type('text/html; charset=utf-8')
        .send(screenPage(screen)),
    );
  }
};
