// Cashback programs (seed 002's "cards"): rate, minimum purchase, cap, currency, PIN redemption,
// maturation and expiry.
import { knownCurrency } from './amounts.ts';
import type { Store, Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';

export interface Program {
  id: number;
  uniqueIdentifier: string;
  name: string;
  description: string;
  currency: string;
  cashbackBps: number;
  minPurchase: number;
  maxCashback: number | null;
  allowsPinRedemption: boolean;
  maturationDays: number;
  expiryDays: number | null;
  createdAt: number;
}

export interface NewProgram {
  uniqueIdentifier: string;
  name: string;
  description?: string;
  currency: string;
  cashbackBps: number;
  minPurchase?: number;
  maxCashback?: number | null;
  allowsPinRedemption?: boolean;
  maturationDays?: number;
  expiryDays?: number | null;
}

interface ProgramRow {
  id: number;
  unique_identifier: string;
  name: string;
  description: string;
  currency: string;
  cashback_bps: number;
  min_purchase: number;
  max_cashback: number | null;
  allows_pin_redemption: number;
  maturation_days: number;
  expiry_days: number | null;
  created_at: number;
}

const fromRow = (r: ProgramRow): Program => ({
  id: r.id,
  uniqueIdentifier: r.unique_identifier,
  name: r.name,
  description: r.description,
  currency: r.currency,
  cashbackBps: r.cashback_bps,
  minPurchase: r.min_purchase,
  maxCashback: r.max_cashback,
  allowsPinRedemption: r.allows_pin_redemption === 1,
  maturationDays: r.maturation_days,
  expiryDays: r.expiry_days,
  createdAt: r.created_at,
});

export async function createProgram(tx: Tx, p: NewProgram, now: number): Promise<Program> {
  knownCurrency(p.currency, 'currency');
  const maturationDays = p.maturationDays ?? 0;
  const expiryDays = p.expiryDays ?? null;
  if (expiryDays !== null && expiryDays <= maturationDays) {
    throw new DomainError(
      'validation_error',
      `expiry_days (${expiryDays}) must be longer than maturation_days (${maturationDays})`,
    );
  }
  const taken = await tx.one('SELECT id FROM programs WHERE unique_identifier = ?', [p.uniqueIdentifier]);
  if (taken) throw new DomainError('conflict', `A program "${p.uniqueIdentifier}" already exists`);
  const row = await tx.row<ProgramRow>(
    `INSERT INTO programs (unique_identifier, name, description, currency, cashback_bps, min_purchase, max_cashback,
       allows_pin_redemption, maturation_days, expiry_days, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [
      p.uniqueIdentifier,
      p.name,
      p.description ?? '',
      p.currency,
      p.cashbackBps,
      p.minPurchase ?? 0,
      p.maxCashback ?? null,
      p.allowsPinRedemption ? 1 : 0,
      maturationDays,
      expiryDays,
      now,
    ],
  );
  return fromRow(row);
}

export async function getProgram(tx: Tx, id: number): Promise<Program> {
  const row = await tx.one<ProgramRow>('SELECT * FROM programs WHERE id = ?', [id]);
  if (!row) throw new DomainError('program_not_found', `No cashback card/program with id ${id}`);
  return fromRow(row);
}

export async function listPrograms(tx: Tx): Promise<Program[]> {
  return (await tx.all<ProgramRow>('SELECT * FROM programs ORDER BY id')).map(fromRow);
}

// Programs never change once created (migration 010: triggers refuse UPDATE and DELETE), so a
// program read by a transaction that has committed stays true for the life of the database, whatever
// process wrote it. Kept per store, and only after the commit: a program created by work that rolled
// back (its id may be reused) is never kept.
const committedPrograms = new WeakMap<Store, Map<number, Program>>();

/**
 * Programs for one store operation: those known committed come from memory, others are read in the
 * transaction; call `committed()` once the transaction has committed to keep what was read.
 */
export function programReader(store: Store) {
  let known = committedPrograms.get(store);
  if (!known) committedPrograms.set(store, (known = new Map()));
  const read: Program[] = [];
  return {
    async get(tx: Tx, id: number): Promise<Program> {
      const cached = known.get(id);
      if (cached) return cached;
      const program = await getProgram(tx, id);
      read.push(program);
      return program;
    },
    committed(): void {
      for (const program of read) known.set(program.id, program);
    },
  };
}
