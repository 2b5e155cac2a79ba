// `npm run docs:api`: writes the generated tables into the docs: the operations into docs/api.md from
// shared/api/operations.ts, the settings into docs/deploy.md from shared/config/settings.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withOperationsTable } from '../shared/api/operations-table.ts';
import { withSettingsTable } from '../shared/config/settings-table.ts';

for (const [doc, write, what] of [
  ['api.md', withOperationsTable, 'operations'],
  ['deploy.md', withSettingsTable, 'settings'],
] as const) {
  const path = fileURLToPath(new URL(`../docs/${doc}`, import.meta.url));
  writeFileSync(path, write(readFileSync(path, 'utf8')));
  console.log(`wrote the table of ${what} into ${path}`);
}
