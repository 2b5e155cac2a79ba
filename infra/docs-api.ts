// `npm run docs:api`: writes the table of operations into docs/api.md from shared/api/operations.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withOperationsTable } from '../shared/api/operations-table.ts';

const path = fileURLToPath(new URL('../docs/api.md', import.meta.url));
writeFileSync(path, withOperationsTable(readFileSync(path, 'utf8')));
console.log(`wrote the table of operations into ${path}`);
