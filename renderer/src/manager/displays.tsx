// The customer displays paired over the LAN: each by name and date, unpaired at once (its screen
// stops), and a new pairing code to type on a display, shown with the time it runs out. While a code
// is live the list is read again every few seconds, so the display appears once it paired.
import { useEffect, useState } from 'preact/hooks';
import { problemText, useLoad, useManager } from './context.ts';
import { formats } from './format.ts';
import { DisplaysSchema, PairingCodeSchema } from './schemas.ts';

const PAIRING_POLL_MS = 3_000;

export function Displays() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const f = formats(texts);
  const list = useLoad(() => manager.call('/api/displays', { schema: DisplaysSchema }), 'displays');
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState<{ code: string; expiresAt: number } | null>(null);
  const act = async (work: () => Promise<string>) => {
    try {
      setNote(await work());
      setError(null);
    } catch (e) {
      setError(problemText(texts, e));
    }
  };
  useEffect(() => {
    if (!code) return;
    const timer = setInterval(() => {
      if (Date.now() > code.expiresAt) {
        setCode(null);
        return;
      }
      list.reload();
    }, PAIRING_POLL_MS);
    return () => clearInterval(timer);
  }, [code]);
  const displays = list.data?.displays ?? [];
  return (
    <section aria-labelledby="displays-title">
      <h2 id="displays-title">{m.displaysSection}</h2>
      <p class="note" role="status">
        {note}
      </p>
      <p class="error" role="alert">
        {error ?? list.error}
      </p>
      {list.data && displays.length === 0 ? (
        <p class="empty">{m.noDisplays}</p>
      ) : (
        <ul class="displays">
          {displays.map((d) => (
            <li key={d.id}>
              <strong>{d.name}</strong>{' '}
              <span class="sub">{texts.fill(m.pairedOn, { date: f.at(d.createdAt) })}</span>
              <button
                type="button"
                class="danger-outline"
                onClick={() =>
                  void act(async () => {
                    await manager.call(`/api/displays/${d.id}`, { method: 'DELETE' });
                    list.reload();
                    return texts.fill(m.unpaired, { name: d.name });
                  })
                }
              >
                {m.unpair}
              </button>
            </li>
          ))}
        </ul>
      )}
      <button
        type="button"
        onClick={() =>
          void act(async () => {
            const c = await manager.call('/api/displays/pairing-code', {
              method: 'POST',
              schema: PairingCodeSchema,
            });
            setCode(c);
            return '';
          })
        }
      >
        {m.pairingCode}
      </button>
      {code && (
        <p class="pairing-code" role="status">
          {texts.fill(m.pairingCodeShown, { code: code.code, time: f.at(code.expiresAt) })}
        </p>
      )}
    </section>
  );
}
