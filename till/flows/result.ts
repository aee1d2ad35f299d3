// What a finished (or finishing) flow shows as its result: amounts in minor units, each only where the
// flow has it. The engine's answers are read here, in one place, into these few numbers.

export interface FlowResult {
  /** Earn and refund: still in the outbox (the engine was not reached in time); amounts follow later. */
  queued: boolean;
  /** Earn: the cashback the engine credited. */
  cashback?: number;
  /** Refund: the cashback the engine took back. */
  clawback?: number;
  /** Redeem: the amount spent. */
  redeemed?: number;
  /** The member's spendable balance after the operation, when the engine said. */
  available?: number;
  /** A plain-words remark (a cancel that came after the operation was made, say). */
  note?: string;
}

const int = (v: unknown): number | undefined => (Number.isSafeInteger(v) ? (v as number) : undefined);

/** The member's available balance in a native answer (`balance.available`), if present. */
function available(answer: Record<string, unknown>): number | undefined {
  const b = answer['balance'];
  return typeof b === 'object' && b !== null ? int((b as Record<string, unknown>)['available']) : undefined;
}

/** Drops the fields that are undefined (the schema is strict about absent vs undefined). */
function compact(r: FlowResult): FlowResult {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as FlowResult;
}

/** The result of an earn (`POST /v1/earn` answer) or a refund (`POST /v1/refund` answer). */
export function deliveredResult(kind: 'earn' | 'refund', answer: Record<string, unknown>): FlowResult {
  return compact({
    queued: false,
    cashback: kind === 'earn' ? int(answer['cashback_earned']) : undefined,
    clawback: kind === 'refund' ? int(answer['cashback_deducted']) : undefined,
    available: available(answer),
  });
}

/** The result of a redeem (`POST /v1/redeem` answer). */
export function redeemedResult(answer: Record<string, unknown>): FlowResult {
  return compact({ queued: false, redeemed: int(answer['amount_redeemed']), available: available(answer) });
}
