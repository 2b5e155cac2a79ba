/**
 * The subset of Compute Engine's list `filter` syntax the emulator understands:
 * `field = value`, `field != value`, `field eq regex`, `field ne regex` and
 * `field:*` (presence), on dotted fields such as `labels.owner-hash`; several
 * parenthesised expressions are ANDed, as the real API does by default.
 */
export type ComputeFilter = (resource: Record<string, unknown>) => boolean;

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

const EXPRESSION = /^\s*([A-Za-z_][\w.-]*)\s*(!=|=|:|\beq\b|\bne\b)\s*(.*?)\s*$/;

export function parseComputeFilter(filter: string | undefined): ComputeFilter {
  if (filter === undefined || filter.trim() === '') return () => true;
  const groups = filter.includes('(') ? splitGroups(filter) : [filter];
  const predicates = groups.map(parseExpression);
  return (resource) => predicates.every((predicate) => predicate(resource));
}

function splitGroups(filter: string): string[] {
  const groups: string[] = [];
  const rest = filter.replace(/\(((?:[^()"]|"(?:[^"\\]|\\.)*")*)\)/g, (_match, inner: string) => {
    groups.push(inner);
    return ' ';
  });
  if (/\bOR\b/.test(rest)) throw new FilterSyntaxError('OR is not supported by the emulator');
  if (rest.replace(/\bAND\b/g, '').trim() !== '') throw new FilterSyntaxError(`Invalid filter: unexpected text "${rest.trim()}"`);
  return groups;
}

function parseExpression(text: string): ComputeFilter {
  const match = EXPRESSION.exec(text);
  if (!match) throw new FilterSyntaxError(`Invalid filter expression: "${text.trim()}"`);
  const [, field = '', operator = '', rawValue = ''] = match;
  const value = unquote(rawValue);
  const read = (resource: Record<string, unknown>): unknown =>
    field
      .split('.')
      .reduce<unknown>(
        (node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
        resource,
      );
  switch (operator) {
    case '=':
      return (resource) => stringOf(read(resource)) === value;
    case '!=':
      return (resource) => stringOf(read(resource)) !== value;
    case ':':
      if (value !== '*') throw new FilterSyntaxError(`only "${field}:*" is supported`);
      return (resource) => read(resource) !== undefined;
    case 'eq':
    case 'ne': {
      const regex = new RegExp(`^(?:${value})$`);
      const wanted = operator === 'eq';
      return (resource) => regex.test(stringOf(read(resource)) ?? '') === wanted;
    }
    default:
      throw new FilterSyntaxError(`unknown operator ${operator}`);
  }
}

function unquote(raw: string): string {
  if (raw.length >= 2 && (raw.startsWith('"') || raw.startsWith("'")) && raw.endsWith(raw[0] as string)) {
    return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  if (/\s/.test(raw) || raw === '') throw new FilterSyntaxError(`Invalid filter value: "${raw}"`);
  return raw;
}

function stringOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
