// The operators of the till: who may sign in, as what, and whether they are enabled. A manager adds an
// operator (name, role, PIN), changes a role, sets a new PIN (which also lifts a PIN lock), and disables
// or enables one. The till refuses to leave no enabled manager (409 last_manager), said in words.
import { useState } from 'preact/hooks';
import { problemText, useLoad, useManager } from './context.ts';
import { ScrollBox } from './scroll-box.tsx';
import { OperatorAnswerSchema, OperatorsSchema, type ManagedOperator } from './schemas.ts';

const ROLES = ['cashier', 'manager'] as const;
const PIN = /^\d{4,12}$/;

function AddOperator({ onAdded }: { onAdded(name: string): void }) {
  const manager = useManager();
  const m = manager.texts.messages.manager;
  const [name, setName] = useState('');
  const [role, setRole] = useState<'cashier' | 'manager'>('cashier');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim() || !PIN.test(pin)) {
      setError(m.badOperator);
      return;
    }
    setBusy(true);
    try {
      const { operator } = await manager.call('/api/operators', {
        body: { name: name.trim(), role, pin },
        schema: OperatorAnswerSchema,
      });
      setName('');
      setPin('');
      setError(null);
      onAdded(operator.name);
    } catch (err) {
      setError(problemText(manager.texts, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="add-operator" onSubmit={submit} aria-labelledby="add-operator-title">
      <h3 id="add-operator-title">{m.addOperator}</h3>
      <div class="fields">
        <label>
          {m.name}
          <input
            name="name"
            value={name}
            maxLength={64}
            autocomplete="off"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          {m.role}
          <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as typeof role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {m[`role_${r}`]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m.pin}
          <input
            name="pin"
            type="password"
            inputMode="numeric"
            autocomplete="new-password"
            maxLength={12}
            value={pin}
            onInput={(e) => setPin(e.currentTarget.value.replace(/\D/g, ''))}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {m.add} <kbd>Enter</kbd>
        </button>
      </div>
      <p class="error" role="alert">
        {error}
      </p>
    </form>
  );
}

function OperatorRow({
  op,
  onChanged,
  onError,
}: {
  op: ManagedOperator;
  onChanged(message: string): void;
  onError(message: string): void;
}) {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const [pin, setPin] = useState('');
  const change = async (body: object, message: string) => {
    try {
      await manager.call(`/api/operators/${op.id}`, { method: 'PATCH', body, schema: OperatorAnswerSchema });
      onChanged(message);
    } catch (e) {
      onError(problemText(texts, e));
    }
  };
  const disabled = op.disabledAt !== null;
  const other = op.role === 'manager' ? 'cashier' : 'manager';
  return (
    <tr data-operator={op.name}>
      <th scope="row">{op.name}</th>
      <td class="row-actions">
        {m[`role_${op.role}`]}
        {/* A button, not a select: a keyboard user's arrows in a select would change the role at once. */}
        <button
          type="button"
          onClick={() =>
            void change(
              { role: other },
              texts.fill(m.roleChanged, { name: op.name, role: m[`role_${other}`] }),
            )
          }
        >
          {texts.fill(m.makeRole, { role: m[`role_${other}`] })}
          <span class="visually-hidden"> ({op.name})</span>
        </button>
      </td>
      <td>
        <span class={`badge ${disabled ? 'off' : 'on'}`}>{disabled ? m.disabled : m.active}</span>
      </td>
      <td class="row-actions">
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (!PIN.test(pin)) return onError(m.badOperator);
            setPin('');
            void change({ pin }, texts.fill(m.pinSet, { name: op.name }));
          }}
        >
          <input
            type="password"
            inputMode="numeric"
            autocomplete="new-password"
            maxLength={12}
            aria-label={texts.fill(m.newPinOf, { name: op.name })}
            value={pin}
            onInput={(e) => setPin(e.currentTarget.value.replace(/\D/g, ''))}
          />
          <button type="submit">{m.setPin}</button>
        </form>
        <button
          type="button"
          class={disabled ? undefined : 'danger-outline'}
          onClick={() =>
            void change(
              { disabled: !disabled },
              texts.fill(disabled ? m.enabledDone : m.disabledDone, { name: op.name }),
            )
          }
        >
          {disabled ? m.enable : m.disable}
        </button>
      </td>
    </tr>
  );
}

export function Operators() {
  const manager = useManager();
  const m = manager.texts.messages.manager;
  const list = useLoad(() => manager.call('/api/operators', { schema: OperatorsSchema }), 'operators');
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const changed = (message: string) => {
    setNote(message);
    setError(null);
    list.reload();
  };
  return (
    <section aria-labelledby="operators-title">
      <h2 id="operators-title">{m.operatorsSection}</h2>
      <p class="note" role="status">
        {note}
      </p>
      <p class="error" role="alert">
        {error ?? list.error}
      </p>
      <ScrollBox label={m.operatorsSection}>
        <table aria-labelledby="operators-title">
          <thead>
            <tr>
              <th scope="col">{m.col_name}</th>
              <th scope="col">{m.col_role}</th>
              <th scope="col">{m.col_status}</th>
              <th scope="col">{m.col_actions}</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.operators ?? []).map((op) => (
              <OperatorRow
                key={op.id}
                op={op}
                onChanged={changed}
                onError={(message) => {
                  setNote(null);
                  setError(message);
                  list.reload();
                }}
              />
            ))}
          </tbody>
        </table>
      </ScrollBox>
      <AddOperator onAdded={(name) => changed(manager.texts.fill(m.added, { name }))} />
    </section>
  );
}
