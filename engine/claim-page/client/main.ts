// The claim page in the customer's browser: opens the claim, takes where the money goes, submits it
// once, then follows its status to a final screen. Texts come from the catalogue the server put in
// the page; nothing the customer types is stored, put in a URL or logged, and the card number is
// cleared from the page once it has been sent.
import {
  callClaimApi,
  errorFields,
  FINAL_STATUSES,
  type ClaimStatus,
  type ClaimView,
  type Failure,
  type StatusView,
} from './api.ts';
import { pollDelay } from './backoff.ts';
import {
  API_FIELDS,
  cardNumberFeedback,
  fieldProblem,
  METHOD_FIELDS,
  methodBody,
  normalizeExpiry,
  REFUSED,
  type FieldId,
  type MethodKind,
} from './fields.ts';
import { formatMoney, formatTime, formattingLocale } from './format.ts';
import { translate, type MessageKey, type Messages } from './messages.ts';

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page has no #${id}`);
  return el as T;
}

const messages = JSON.parse(byId('messages').textContent ?? '') as Messages;
const lang = formattingLocale(document.documentElement.lang, navigator.languages);
const t = (key: MessageKey, vars?: Record<string, string>) => translate(messages, key, vars);
const claimId = decodeURIComponent(location.pathname.split('/').pop() ?? '');

const form = byId<HTMLFormElement>('form');
const submitButton = byId<HTMLButtonElement>('submit');
const consent = byId<HTMLInputElement>('consent');
const statusTitle = byId('status-title');
const statusBody = byId('status-body');
const spinner = byId('spinner');
const radios = [...form.querySelectorAll<HTMLInputElement>('input[name="method"]')];
const ALL_FIELDS = Object.values(METHOD_FIELDS).flat() as FieldId[];
const input = (field: FieldId) => byId<HTMLInputElement>(field);

let view: ClaimView | undefined;
/** Set once the customer submits: from then on a final screen takes the focus (and is read out). */
let submitted = false;

// ------------------------------------------------------------------------------------------ screens

function setText(el: HTMLElement, text: string) {
  // Rewriting the same text would make screen readers announce it again.
  if (el.textContent !== text) el.textContent = text;
}

function showStatus(text: string, busy: boolean) {
  statusTitle.hidden = true;
  setText(statusBody, text);
  spinner.hidden = !busy;
}

function showFinal(title: MessageKey, body: string) {
  form.hidden = true;
  spinner.hidden = true;
  setText(statusTitle, t(title));
  statusTitle.hidden = false;
  setText(statusBody, body);
  if (submitted) statusTitle.focus();
}

const amountText = (v: ClaimView) => formatMoney(v.amount, v.currency, lang);

const FAILURES: Record<string, MessageKey> = {
  insufficient_funds: 'failureInsufficientFunds',
  invalid_account: 'failureInvalidAccount',
  card_declined: 'failureCardDeclined',
  card_not_eligible: 'failureCardNotEligible',
  returned: 'failureReturned',
};

function showOutcome(status: ClaimStatus, failure: Failure | null) {
  const store = view?.store_name ?? '';
  switch (status) {
    case 'paid':
      return showFinal(
        'paidTitle',
        t('paidBody', { amount: view ? amountText(view) : '', method: view?.method?.label ?? '' }),
      );
    case 'failed':
      return showFinal(
        'failedTitle',
        t('failedBody', { reason: t(FAILURES[failure?.code ?? ''] ?? 'failureOther'), store }),
      );
    case 'expired':
      return showFinal(
        'expiredTitle',
        t('expiredBody', { date: view ? formatTime(view.expires_at, lang) : '', store }),
      );
    case 'cancelled':
      return showFinal('cancelledTitle', t('cancelledBody', { store }));
    case 'submitted':
      return showStatus(t('statusSubmitted'), true);
    default:
      return showStatus(t('statusProcessing', { amount: view ? amountText(view) : '' }), true);
  }
}

function showNotFound() {
  byId('summary').hidden = true;
  showFinal('notFoundTitle', t('notFoundBody'));
}

function showSummary(v: ClaimView) {
  setText(byId('store'), t('from', { store: v.store_name }));
  setText(byId('amount'), amountText(v));
  setText(byId('expires'), t('expires', { date: formatTime(v.expires_at, lang) }));
  byId('summary').hidden = false;
}

// --------------------------------------------------------------------------------------------- form

function showFieldError(field: FieldId | 'consent' | 'method', key: MessageKey | undefined, ok = false) {
  const error = byId(`err-${field}`);
  error.hidden = key === undefined;
  error.classList.toggle('ok', ok);
  setText(error, key === undefined ? '' : t(key));
  const bad = key !== undefined && !ok;
  if (field === 'method') return;
  if (bad) byId(field).setAttribute('aria-invalid', 'true');
  else byId(field).removeAttribute('aria-invalid');
}

const chosenMethod = () => radios.find((r) => r.checked)?.value as MethodKind | undefined;

function chooseMethod(kind: MethodKind | undefined) {
  for (const k of Object.keys(METHOD_FIELDS) as MethodKind[]) byId(`fields-${k}`).hidden = k !== kind;
  if (kind) showFieldError('method', undefined);
}

function showForm(v: ClaimView) {
  for (const label of form.querySelectorAll<HTMLElement>('label[data-method]')) {
    label.hidden = !v.methods.includes(label.dataset.method as MethodKind);
  }
  byId('card-refused').hidden = v.card_entry.allowed || v.card_entry.reason === null;
  setText(byId('card-refused'), t('cardRefused'));
  const offered = radios.filter((r) => v.methods.includes(r.value as MethodKind));
  if (offered.length === 1 && offered[0]) offered[0].checked = true;
  chooseMethod(chosenMethod());
  form.hidden = false;
  showStatus('', false);
}

/** Checks the chosen method's fields and the consent; shows every problem; true when all is well. */
function validateForm(): boolean {
  const kind = chosenMethod();
  const problems: (FieldId | 'consent' | 'method')[] = [];
  if (!kind) {
    showFieldError('method', 'errMethod');
    problems.push('method');
  } else {
    for (const field of METHOD_FIELDS[kind]) {
      const key = fieldProblem(field, input(field).value, Date.now());
      showFieldError(field, key);
      if (key) problems.push(field);
    }
  }
  showFieldError('consent', consent.checked ? undefined : 'errConsent');
  if (!consent.checked) problems.push('consent');
  const first = problems[0];
  if (first === 'method') (radios.find((r) => !r.closest('label')?.hidden) ?? radios[0])?.focus();
  else if (first) byId(first).focus();
  return problems.length === 0;
}

function showApiError(status: number, error: { code: string; message: string } | undefined) {
  const formError = byId('err-form');
  formError.hidden = false;
  if (status === 0) return setText(formError, t('errNetwork'));
  if (status === 429) return setText(formError, t('errBusy'));
  setText(formError, t('errOther', { message: error?.message ?? String(status) }));
}

/** Once the form is left for good, what was typed (the card number above all) leaves the page. */
function forgetFields() {
  for (const field of ALL_FIELDS) input(field).value = '';
}

async function submit() {
  byId('err-form').hidden = true;
  const kind = chosenMethod();
  if (!validateForm() || !kind) return;
  const values = Object.fromEntries(METHOD_FIELDS[kind].map((f) => [f, input(f).value]));
  submitted = true;
  submitButton.disabled = true;
  const label = submitButton.textContent;
  submitButton.textContent = t('sending');
  const answer = await callClaimApi<ClaimView>(claimId, 'POST', '/submit', {
    consent: true,
    method: methodBody(kind, values),
  });
  submitButton.disabled = false;
  submitButton.textContent = label;
  if (answer.ok || answer.status === 404 || answer.status === 409) forgetFields();
  if (answer.ok) {
    view = answer.body;
    return follow(answer.body.status, null);
  }
  if (answer.status === 404) return showNotFound();
  if (answer.status === 409) return follow('submitted', null); // already submitted: show where it is
  const fields = errorFields(answer.error)
    .map((f) => API_FIELDS[f])
    .filter((f) => f !== undefined);
  if (answer.status === 400 && fields.length > 0) {
    for (const field of fields) {
      if (field === 'method') showFieldError(field, 'errMethod');
      else if (field === 'consent') showFieldError(field, 'errConsent');
      else showFieldError(field, fieldProblem(field, input(field).value, Date.now()) ?? REFUSED[field]);
    }
    const first = fields[0];
    if (first && first !== 'method') byId(first).focus();
    return;
  }
  showApiError(answer.status, answer.error);
}

// ------------------------------------------------------------------------------------------- status

/** Shows `status`, and until it is final asks the API again with a growing delay. */
function follow(status: ClaimStatus, failure: Failure | null, attempt = 0) {
  showOutcome(status, failure);
  if (FINAL_STATUSES.includes(status)) return;
  form.hidden = true;
  setTimeout(() => void poll(attempt), pollDelay(attempt));
}

async function poll(attempt: number) {
  const answer = await callClaimApi<StatusView>(claimId, 'GET', '/status');
  if (!answer.ok) {
    if (answer.status === 404) return showNotFound();
    showStatus(t('statusRetrying'), true);
    setTimeout(() => void poll(attempt + 1), pollDelay(attempt + 1));
    return;
  }
  if (FINAL_STATUSES.includes(answer.body.status)) {
    // The final screen says where the money went; the view knows, even for a claim that another
    // phone submitted while this one was open.
    const fresh = await callClaimApi<ClaimView>(claimId, 'GET', '');
    if (fresh.ok) view = fresh.body;
  }
  follow(answer.body.status, answer.body.failure, attempt + 1);
}

async function start(attempt = 0): Promise<void> {
  const answer = await callClaimApi<ClaimView>(claimId, 'POST', '/open');
  if (!answer.ok) {
    if (answer.status === 404) return showNotFound();
    showStatus(answer.status === 0 ? t('errNetwork') : t('statusRetrying'), true);
    setTimeout(() => void start(attempt + 1), pollDelay(attempt));
    return;
  }
  view = answer.body;
  showSummary(view);
  if (view.status === 'created' || view.status === 'opened') showForm(view);
  else follow(view.status, view.failure);
}

// ------------------------------------------------------------------------------------------- wiring

for (const radio of radios) radio.addEventListener('change', () => chooseMethod(chosenMethod()));
input('cardNumber').addEventListener('input', () => {
  const feedback = cardNumberFeedback(input('cardNumber').value);
  showFieldError('cardNumber', feedback?.key, feedback?.ok);
});
input('cardExpiry').addEventListener('change', () => {
  input('cardExpiry').value = normalizeExpiry(input('cardExpiry').value);
});
for (const field of ALL_FIELDS) {
  // Fields are judged at submit (and the card number as typed), not on leaving them: an error shown
  // on blur moves the page under the finger that is tapping the next control. A shown error goes as
  // soon as the value is right.
  if (field === 'cardNumber') continue;
  input(field).addEventListener('input', () => {
    if (!fieldProblem(field, input(field).value, Date.now())) showFieldError(field, undefined);
  });
}
consent.addEventListener('change', () => {
  if (consent.checked) showFieldError('consent', undefined);
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void submit();
});

void start();
