import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

/**
 * The layers (README, Layout), kept by the linter: route → store → service → (Dexie | worker |
 * edge client) → core. Each entry is what a part of the tree may not import, and why.
 */
/**
 * @param {string[]} files
 * @param {{ regex: string; message: string; allowTypeImports?: boolean }[]} patterns
 * @returns {import('eslint').Linter.Config}
 */
const layer = (files, patterns) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] }
});
const coreOnly = {
  regex: '^[#$]lib/(?!core/)|^\\$app\\b|^(svelte|dexie|comlink|@huggingface|onnxruntime-web|@mlc-ai)(/|$)',
  message: 'src/lib/core is pure TypeScript shared by the app, the workers and edge-api: it imports nothing above it.'
};
export const boundaries = [
  layer(['src/lib/core/*.ts'], [coreOnly, { regex: '^\\.\\./', message: coreOnly.message }]),
  layer(['src/lib/core/*/*.ts'], [coreOnly, { regex: '^(\\.\\./){2}', message: coreOnly.message }]),
  layer(['src/lib/core/*/*/*.ts'], [coreOnly, { regex: '^(\\.\\./){3}', message: coreOnly.message }]),
  layer(
    ['src/routes/**', 'src/lib/components/**'],
    [
      {
        regex: '^(dexie|comlink)(/|$)|^[#$]lib/(db|workers)/|(^|/)(db|workers)/|^@huggingface/|^onnxruntime-',
        allowTypeImports: true,
        message: 'Pages and components reach IndexedDB and workers through a store and its services.'
      }
    ]
  ),
  layer(
    ['edge-api/**'],
    [
      {
        regex: '^#lib/(?!core/)|(^|/)src/(?!lib/core/)|(^|/)workers/|^(svelte|dexie|comlink|\\$app)(/|$)',
        message: 'edge-api takes only src/lib/core from the app.'
      }
    ]
  ),
  layer(['vite.config.ts'], [{ regex: '^\\./tests/', message: 'The build must not depend on the tests.' }])
];

export default ts.config(
  { ignores: ['build/', '.svelte-kit/', '.cache/', 'node_modules/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['src/service-worker/index.ts'] },
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte']
      }
    },
    rules: {
      curly: 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser } }
  },
  ...boundaries,
  { files: ['**/*.js'], ...ts.configs.disableTypeChecked }
);
