// The folder import table of DESIGN.md is enforced by ESLint: check that the rule really refuses an
// import across a forbidden boundary and allows a permitted one.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function messages(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('folder import boundaries', () => {
  it('refuses contract/ importing the engine', async () => {
    const found = await messages('contract/x.ts', "export { createEngine } from '../engine/server.ts';\n");
    expect(
      found.some(
        (m) => m.startsWith('import-x/no-restricted-paths') && m.includes('contract/ may import only'),
      ),
    ).toBe(true);
  });

  it('refuses engine/ importing test code, and any folder but electron/ importing electron', async () => {
    const till = await messages('engine/x.ts', "export * from '../test/engine/harness.ts';\n");
    expect(till.some((m) => m.includes('engine/ may import only: contract'))).toBe(true);
    const electron = await messages('engine/y.ts', "export { app } from 'electron';\n");
    expect(electron.some((m) => m.includes('Only electron/ imports electron'))).toBe(true);
  });

  it('allows engine/ importing contract/', async () => {
    const found = await messages('engine/z.ts', "export { parseAmount } from '../contract/money.ts';\n");
    expect(found.filter((m) => m.startsWith('import-x/no-restricted-paths'))).toEqual([]);
  });
});
