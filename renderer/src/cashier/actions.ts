// What the cashier screen asks of the till's local API: the current flow and the terminals, starting a
// flow, typed input, cancel, sign-out. Each call carries the launch token and the operator's session;
// a session the till no longer knows sends the cashier back to sign-in with a word of why. Refusals
// reach the caller as ApiErrors (their message is the till's, in plain words).
import { z } from 'zod';
import { DeviceSummarySchema, FlowEventSchema, type FlowKind } from '../../../contract/till-events.ts';
import { ApiError, apiFetch, forgetSession, isSessionLost, signOut, type ApiInit } from '../shared/api.ts';
import { devices, flow, notice, session, showFlow } from './state.ts';

const FlowAnswerSchema = z.object({ flow: FlowEventSchema });
const DevicesSchema = z.object({ devices: z.array(DeviceSummarySchema) });
const StartedSchema = z.object({ flowId: z.string(), state: FlowEventSchema });

export interface Actions {
  /** Re-reads the till's current flow and its terminals (sign-in, reconnect, reload). */
  refresh(): Promise<void>;
  start(kind: FlowKind, body: Record<string, unknown>): Promise<void>;
  input(body: { member: Record<string, string> } | { code: string }): Promise<void>;
  cancel(): Promise<void>;
  signOut(): Promise<void>;
}

export function createActions(token: string, sessionLostText: string): Actions {
  async function call<T>(path: string, init: ApiInit<T>): Promise<T> {
    const current = session.value;
    try {
      return await apiFetch(token, current?.session, path, init);
    } catch (error) {
      if (isSessionLost(error)) {
        forgetSession();
        session.value = undefined;
        notice.value = sessionLostText;
      }
      throw error;
    }
  }
  return {
    async refresh() {
      devices.value = (await call('/api/devices', { schema: DevicesSchema })).devices;
      try {
        showFlow((await call('/api/flows/current', { schema: FlowAnswerSchema })).flow, false);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'no_flow')) throw error;
        flow.value = null;
      }
    },
    async start(kind, body) {
      showFlow((await call(`/api/flows/${kind}`, { body, schema: StartedSchema })).state, false);
    },
    async input(body) {
      showFlow((await call('/api/flows/current/input', { body, schema: FlowAnswerSchema })).flow, false);
    },
    async cancel() {
      showFlow(
        (await call('/api/flows/current/cancel', { method: 'POST', schema: FlowAnswerSchema })).flow,
        false,
      );
    },
    async signOut() {
      const current = session.value;
      session.value = undefined;
      notice.value = null;
      if (current) await signOut(token, current);
    },
  };
}
