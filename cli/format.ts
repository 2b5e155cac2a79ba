import type { Instance } from '../client/allocator-client.ts';
import { AllocatorApiError, MissingIdentityError } from '../client/errors.ts';

/** `list -l`: one block per instance, as allocatord's CLI printed them. */
export function formatInstanceBlock(instance: Instance, now: number = Date.now()): string {
  const rows: [string, string][] = [
    ['Name', instance.name],
    ['State', instance.state],
    ['MountName', instance.mountName],
    ['Owner', instance.sharedWithMe ? `${instance.owner} (shared with you)` : instance.owner],
    ...((instance.collaborators?.length ?? 0) > 0 ? [['SharedWith', (instance.collaborators ?? []).join(', ')] as [string, string]] : []),
    ['Created', `${instance.creationTime} (${formatAge(now - Date.parse(instance.creationTime))} ago)`],
    ['Replicas', `${instance.readyReplicas}/${instance.replicas} ready`],
    ['Version', instance.version],
    ['Disk', instance.disk],
    ['Expires', instance.expiresAt ?? 'never'],
    ['AccessList', instance.accessList.In.join(', ')],
    ...Object.entries(instance.parameters).map(([name, value]): [string, string] => ['Parameter', `${name}=${value}`]),
    ...(instance.endpoints ?? []).map((endpoint): [string, string] => [
      'Endpoint',
      `${endpoint.name}/${endpoint.protocol} ${endpoint.host}:${endpoint.port}${endpoint.loadBalancer ? ` (VPC: ${endpoint.loadBalancer.host}:${endpoint.loadBalancer.port})` : ''}`,
    ]),
    ...instance.problems.map((problem): [string, string] => ['Problem', `${problem.reason} since ${problem.since}: ${problem.message}`]),
    // What the server's table of transitions lets the caller do to it now.
    ...(instance.operations
      ? [['YouMay', instance.operations.length > 0 ? instance.operations.join(', ') : 'nothing now'] as [string, string]]
      : []),
  ];
  return rows.map(([key, value]) => `${`${key}:`.padEnd(12)}${printable(value)}`).join('\n');
}

/**
 * What `allocator run` adds to its command's environment for each endpoint:
 * `ALLOCATOR_ENDPOINT_<SERVICE>_<PORT>_HOST` and `_PORT`, and `_LB_HOST` and
 * `_LB_PORT` once an internal load balancer has an address. `<SERVICE>` is
 * the Service's name less the instance's (`<name>-metrics` gives `METRICS`;
 * `<name>` itself, nothing), so that a job names a variable without knowing
 * the instance; `<PORT>` is the port's name. Upper-cased, anything but
 * letters and digits as `_`.
 */
export function endpointEnvironment(instance: Pick<Instance, 'name' | 'endpoints'>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const endpoint of instance.endpoints ?? []) {
    const service = endpoint.service === instance.name ? '' : endpoint.service.replace(`${instance.name}-`, '');
    const prefix = ['ALLOCATOR_ENDPOINT', service, endpoint.name]
      .filter((part) => part !== '')
      .join('_')
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '_');
    environment[`${prefix}_HOST`] = endpoint.host;
    environment[`${prefix}_PORT`] = String(endpoint.port);
    if (endpoint.loadBalancer) {
      environment[`${prefix}_LB_HOST`] = endpoint.loadBalancer.host;
      environment[`${prefix}_LB_PORT`] = String(endpoint.loadBalancer.port);
    }
  }
  return environment;
}

const CONTROL = /\p{Cc}/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with each control character (C0, DEL, C1) written as an escape
 * (`\n`, `\x1b`): emails, parameter values and messages come from other
 * people, and a terminal would act on an escape sequence among them.
 */
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(CONTROL, (char) =>
    options.keepNewlines && char === '\n' ? char : (NAMED[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`),
  );
}

/** `--json`'s output: JSON.stringify escapes C0 only, so DEL and C1 are escaped here too (`\u009b`), and it stays the same JSON. */
export function printableJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(seconds / 3600);
  return hours < 48 ? `${hours}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(hours / 24)}d`;
}

/** One readable line for any failure, its control characters escaped. */
export function formatError(error: unknown): string {
  // The CLI's own advice keeps its lines; anything else may carry a server's or another person's text.
  if (error instanceof MissingIdentityError) return printable(error.message, { keepNewlines: true });
  return printable(unescapedError(error));
}

function unescapedError(error: unknown): string {
  if (error instanceof AllocatorApiError) return error.status === 0 ? error.message : `${error.message} (${error.status} ${error.code})`;
  return error instanceof Error ? withCauses(error) : String(error);
}

/** An unexpected error's message and its causes' (a network failure's reason is in its cause). */
function withCauses(error: Error): string {
  const messages = [error.message];
  for (let cause = error.cause, depth = 0; cause !== undefined && depth < 3; cause = (cause as { cause?: unknown }).cause, depth += 1) {
    messages.push(cause instanceof Error ? cause.message : String(cause));
  }
  return messages.join(': ');
}
