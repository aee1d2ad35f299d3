// ESLint flat config. The `import-x/no-restricted-paths` zones enforce DESIGN.md's "may import" table:
// a folder may import only the folders listed for it, so the layers cannot grow into each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';

const folders = ['contract', 'engine', 'drivers', 'till', 'renderer', 'electron', 'test', 'bench'];
const mayImport = {
  contract: [],
  engine: ['contract'],
  drivers: ['contract'],
  till: ['contract', 'drivers', 'engine'],
  renderer: ['contract'],
  electron: ['till', 'contract'],
};
const zones = Object.entries(mayImport).map(([target, allowed]) => ({
  target: `./${target}`,
  from: folders.filter((f) => f !== target && !allowed.includes(f)).map((f) => `./${f}`),
  message: `${target}/ may import only: ${allowed.length ? allowed.join(', ') : 'nothing of ours'} (DESIGN.md).`,
}));

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      'coverage/**',
      'test-results/**',
      'out/**',
      'release/**',
      'renderer/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The screens run in a browser (renderer/build.ts and vite.config.ts, beside them, run in Node).
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Tests read rows they just wrote and JSON bodies of any shape: assertions there are the point.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Only the Electron shell may load Electron (its binary is absent on build machines).
    files: folders.filter((f) => f !== 'electron').map((f) => `${f}/**`),
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only electron/ imports electron.' }] },
      ],
    },
  },
);
