// `npm run docs:api`: writes the generated tables into the docs: the operations into docs/api.md from
// shared/api/operations.ts, the settings into docs/deploy.md from shared/config/settings.ts, the phases into
// docs/architecture.md from shared/model/transitions.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withOperationsTable } from '../shared/api/operations-table.ts';
import { withSettingsTable } from '../shared/config/settings-table.ts';
import { withStateDiagram } from '../shared/model/diagram-doc.ts';

for (const [doc, write, what] of [
  ['api.md', withOperationsTable, 'operations'],
  ['deploy.md', withSettingsTable, 'settings'],
  ['architecture.md', withStateDiagram, 'phases'],
] as const) {
  const path = fileURLToPath(new URL(`../docs/${doc}`, import.meta.url));
  writeFileSync(path, write(readFileSync(path, 'utf8')));
  console.log(`wrote the table of ${what} into ${path}`);
}
