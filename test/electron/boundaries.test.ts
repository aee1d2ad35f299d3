// electron/ is the one folder that may import `electron`, and it may import only till/ and contract/
// of ours (DESIGN.md's table, enforced by eslint.config.js).
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
const messages = async (filePath: string, code: string) =>
  ((await eslint.lintText(code, { filePath }))[0]?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);

describe('electron/ import boundaries', () => {
  it('allows electron, till/ and contract/ in electron/', async () => {
    const code = [
      "export { app } from 'electron';",
      "export { startTill } from '../till/core.ts';",
      "export { parseAmount } from '../contract/money.ts';",
      '',
    ].join('\n');
    expect(await messages('electron/x.ts', code)).toEqual([]);
  });

  it('refuses engine/ and drivers/ in electron/, and electron anywhere else', async () => {
    for (const from of ['../engine/server.ts', '../drivers/cli.ts']) {
      const found = await messages('electron/x.ts', `export * from '${from}';\n`);
      expect(
        found.some((m) => m.includes('electron/ may import only: till, contract')),
        from,
      ).toBe(true);
    }
    for (const file of ['till/x.ts', 'renderer/x.ts', 'test/electron/x.ts']) {
      const found = await messages(file, "export { app } from 'electron';\n");
      expect(
        found.some((m) => m.includes('Only electron/ imports electron')),
        file,
      ).toBe(true);
    }
  });
});
