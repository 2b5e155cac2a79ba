import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../../../cli/main.ts';
import { FLAG_OF_FIELD } from '../../../../cli/command.ts';
import { OPERATIONS, type OperationId, type OperationSpec } from '../../../../shared/api/operations.ts';
import { operationsMarkdown, withOperationsTable } from '../../../../shared/api/operations-table.ts';

const operations = Object.entries(OPERATIONS) as [OperationId, OperationSpec][];

async function printed(argv: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => void lines.push(line);
  try {
    expect(await main(argv, {})).toBe(0);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

describe('the CLI agrees with the table of operations', () => {
  it.each(operations)('has a command for %s, listed in the help with its summary', async (id, spec) => {
    expect(COMMANDS[id]?.operation).toBe(id);
    const summary = spec.summary.charAt(0).toLowerCase() + spec.summary.slice(1);
    expect(await printed(['--help'])).toMatch(new RegExp(`^  ${id} +${summary.replace(/[()]/g, '\\$&')}$`, 'm'));
  });

  it.each(operations)("names in %s's usage a flag for every field the operation takes", async (id, spec) => {
    const usage = await printed([id, '--help']);
    const command = COMMANDS[id];
    for (const field of [...Object.keys(spec.body ?? {}), ...Object.keys(spec.query ?? {})]) {
      const flag = FLAG_OF_FIELD[field];
      expect(flag, `a flag for ${id}'s field ${field}`).toBeDefined();
      expect(usage).toContain(flag);
      if (flag?.startsWith('--')) expect(Object.keys(command?.options ?? {})).toContain(flag.slice(2));
    }
  });
});

describe('docs/api.md agrees with the table of operations', () => {
  const docs = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');

  it('carries the generated table under "## Operations" (npm run docs:api writes it)', () => {
    expect(withOperationsTable(docs)).toBe(docs);
    expect(docs).toContain(operationsMarkdown());
  });

  // Read from the committed file itself, not from the generator that wrote it.
  const section = docs.slice(docs.indexOf('\n## Operations\n'));
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('\n|')))
    .split('\n')
    .filter((line) => /^\| `/.test(line))
    .map((line) => line.split(' | '));

  it('lists each operation of the table once, in its order', () => {
    expect(rows.map(([id]) => id)).toEqual(operations.map(([id]) => `| \`${id}\``));
  });

  it.each(operations)("gives %s's function, path and methods in its row", (id, spec) => {
    const row = rows.find(([name]) => name === `| \`${id}\``);
    expect(row?.[1]).toBe(spec.path === '/' ? spec.function : `${spec.function} \`${spec.path}\``);
    expect(row?.[2]).toBe(spec.methods.join(', '));
  });
});
