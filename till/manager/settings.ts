// GET /api/settings: what the manager's Settings tab shows of the till's configuration, read-only. Where
// the till points (embedded engine or a central one, and where phones reach its claim pages), its
// program as configured and as the engine describes it, the offline limits and retry of its queue,
// the store and its days' time zone. Never a secret: no API key, tokenization key, PIN BDK or token.
import type { LocalApiRoutes } from '../api/server.ts';
import type { TillConfig } from '../config.ts';
import type { EngineClient } from '../engine-client.ts';
import { processTimeZone } from '../history/days.ts';
import { fromEngineError } from './engine-errors.ts';

export interface SettingsSource {
  config: TillConfig;
  engine: { url: string; publicUrl: string; appId: string };
  program: { id: number; currency: string };
}

interface EngineProgram {
  program_id: number;
  [field: string]: unknown;
}

/** How a manager changes what the tab shows: the till reads these at its start. */
export const HOW_TO_CHANGE =
  'Set in the till’s configuration file (--config or TILLBACK_TILL_CONFIG) or its TILLBACK_TILL_* environment variables, then restart the till (till/README.md, Configuration).';

export function settingsRoutes(source: SettingsSource, engine: EngineClient): LocalApiRoutes {
  const { config } = source;
  return ({ app, operator }) => {
    app.get('/api/settings', async (req) => {
      await operator(req, 'manager');
      // What the engine says of the program, or why it cannot say: the rest of the tab shows anyway.
      let program: { engine: unknown; engineError: { code: string; message: string } | null };
      try {
        const { programs } = await engine.get<{ programs: EngineProgram[] }>('/v1/programs');
        const found = programs.find((p) => p.program_id === source.program.id) ?? null;
        program = {
          engine: found,
          engineError: found
            ? null
            : { code: 'not_found', message: `The engine has no program ${source.program.id}` },
        };
      } catch (error) {
        const e = fromEngineError(error, 'describe its program');
        program = { engine: null, engineError: { code: e.code, message: e.message } };
      }
      return {
        store: config.store,
        timeZone: config.timeZone ?? processTimeZone(),
        engine: {
          mode: config.engine.url ? 'central' : 'embedded',
          url: source.engine.url,
          publicUrl: source.engine.publicUrl,
          appId: source.engine.appId,
        },
        program: { id: source.program.id, currency: source.program.currency, ...program },
        outbox: {
          limits: config.outbox.limits,
          retry: config.outbox.retry,
          timeoutMs: config.outbox.timeoutMs,
        },
        api: {
          lanAddress: config.api.lanAddress ?? null,
          sessionTtlMinutes: config.api.sessionTtlMinutes,
        },
        howToChange: HOW_TO_CHANGE,
      };
    });
  };
}
