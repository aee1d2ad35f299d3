// The settings section: where the till points (embedded engine or a central one, and where phones open
// claims), its program as configured and as the engine describes it, the offline limits of its queue
// and the store; read-only, with how to change them. Then the operators and the paired displays,
// which a manager changes here.
import { Fragment } from 'preact';
import { formatPercent } from '../../../contract/money.ts';
import { useLoad, useManager } from './context.ts';
import { Displays } from './displays.tsx';
import { formats } from './format.ts';
import { Operators } from './operators.tsx';
import { SettingsSchema, type Settings } from './schemas.ts';

function Facts({ rows }: { rows: [string, string][] }) {
  return (
    <dl class="facts">
      {rows.map(([label, value]) => (
        <Fragment key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function Configured({ s }: { s: Settings }) {
  const { texts } = useManager();
  const m = texts.messages.manager;
  const f = formats(texts, s.timeZone);
  const money = (minor: number) => texts.money(minor, s.program.currency);
  const p = s.program.engine;
  const limits = s.outbox.limits;
  const amounts = Object.entries(limits.maxAmount);
  return (
    <>
      <p class="hint">{m.readOnly}</p>
      <section aria-labelledby="engine-title">
        <h2 id="engine-title">{m.engineSection}</h2>
        <Facts
          rows={[
            [m.mode, s.engine.mode === 'embedded' ? m.mode_embedded : m.mode_central],
            [m.engineUrl, s.engine.url],
            [m.publicUrl, s.engine.publicUrl],
            [m.appId, s.engine.appId],
          ]}
        />
      </section>
      <section aria-labelledby="program-title">
        <h2 id="program-title">{m.programSection}</h2>
        <p>{texts.fill(m.programId, { id: String(s.program.id), currency: s.program.currency })}</p>
        {p ? (
          <Facts
            rows={[
              [m.programName, p.name],
              [m.rate, `${formatPercent(p.cashback_bps)}%`],
              [m.minPurchase, money(p.min_purchase)],
              [m.maxCashback, p.max_cashback === null ? m.noCap : money(p.max_cashback)],
              [m.pinRedemption, p.allows_pin_redemption ? m.yes : m.no],
              [m.maturation, f.count(p.maturation_days)],
              [m.expiry, p.expiry_days === null ? m.never : f.count(p.expiry_days)],
            ]}
          />
        ) : (
          <p class="error">
            {texts.fill(m.programUnknown, { message: s.program.engineError?.message ?? '' })}
          </p>
        )}
      </section>
      <section aria-labelledby="limits-title">
        <h2 id="limits-title">{m.limitsSection}</h2>
        <p class="hint">{m.limitsHint}</p>
        <Facts
          rows={[
            [m.maxAge, f.duration(limits.maxAgeHours * 3_600_000)],
            [m.maxCount, f.count(limits.maxCount)],
            ...(amounts.length === 0
              ? [[m.noAmountLimit, m.unlimited] as [string, string]]
              : amounts.map(([currency, minor]): [string, string] => [
                  texts.fill(m.maxAmount, { currency }),
                  texts.money(minor, currency),
                ])),
            [
              m.retrySetting,
              texts.fill(m.retryValue, {
                base: f.duration(s.outbox.retry.baseMs),
                max: f.duration(s.outbox.retry.maxMs),
              }),
            ],
          ]}
        />
      </section>
      <section aria-labelledby="store-title">
        <h2 id="store-title">{m.storeSection}</h2>
        <Facts
          rows={[
            [m.storeName, s.store.name],
            [m.locale, s.store.locale],
            [m.timeZone, s.timeZone],
          ]}
        />
      </section>
    </>
  );
}

export function SettingsSection() {
  const manager = useManager();
  const m = manager.texts.messages.manager;
  const settings = useLoad(() => manager.call('/api/settings', { schema: SettingsSchema }), 'settings');
  return (
    <div class="section settings">
      <h2 class="visually-hidden">{m.settingsTitle}</h2>
      <p class="error" role="alert">
        {settings.error}
      </p>
      {settings.loading && !settings.data && <p role="status">{m.loading}</p>}
      {settings.data && <Configured s={settings.data} />}
      <Operators />
      <Displays />
    </div>
  );
}
