import { OPERATIONS, type OperationId, type OperationSpec } from './operations.ts';

/**
 * The Markdown table of operations that docs/api.md carries under
 * "## Operations", generated from the table so that the docs cannot drift
 * (`npm run docs:api` writes it; a test checks it).
 */
export function operationsMarkdown(): string {
  const rows = (Object.entries(OPERATIONS) as [OperationId, OperationSpec][]).map(([id, spec]) => {
    const where = `${spec.function}${spec.path === '/' ? '' : ` \`${spec.path}\``}`;
    const fields = [
      ...Object.entries(spec.body ?? {}).map(([name, field]) => (field.required ? `\`${name}\`` : `\`${name}\`?`)),
      ...Object.keys(spec.query ?? {}).map((name) => `\`?${name}=\``),
      ...(spec.idempotent ? ['`Idempotency-Key` header?'] : []),
    ];
    const who =
      spec.requires === 'admin'
        ? 'admins'
        : spec.adminWhen
          ? `callers; admins for ${spec.adminWhen.map((f) => `\`?${f}=true\``).join(', ')}`
          : 'callers';
    return `| \`${id}\` | ${where} | ${spec.methods.join(', ')} | ${who} | ${fields.join(', ') || 'none'} | \`${spec.answer.status}\` ${spec.answer.schema} |`;
  });
  return ['| operation | function and path | methods | who | takes | answers |', '| --- | --- | --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

/** Replaces the table under `## Operations` in a Markdown text: the lines from the first table row to the blank line after it. */
export function withOperationsTable(markdown: string): string {
  const lines = markdown.split('\n');
  const heading = lines.indexOf('## Operations');
  if (heading < 0) throw new Error('no "## Operations" heading');
  const start = lines.findIndex((line, index) => index > heading && line.startsWith('|'));
  let end = start;
  while (end < lines.length && lines[end]?.startsWith('|')) end += 1;
  return [...lines.slice(0, start), operationsMarkdown(), ...lines.slice(end)].join('\n');
}
