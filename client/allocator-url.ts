/** The three functions of a deployed allocator, and the audience its tokens need. */
export interface AllocatorEndpoints {
  readonly create: string;
  readonly destroy: string;
  readonly list: string;
  /** The allocator value itself: deployments give all three functions this custom audience. */
  readonly audience: string;
}

/**
 * Maps an allocator value to its functions. Cloud Run functions of one
 * allocator are named `<name>-create`, `<name>-destroy` and `<name>-list`, so
 * `https://us-central1-my-project.cloudfunctions.net/syncbase-allocator` names
 * all three. A value holding `{function}` is a template instead
 * (`https://syncbase-allocator-{function}-abc123-uc.a.run.app`).
 */
export function allocatorEndpoints(allocator: string): AllocatorEndpoints {
  const value = allocator.trim().replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(value.replace('{function}', 'function'));
  } catch {
    throw new Error(
      `--allocator must be a URL such as https://us-central1-my-project.cloudfunctions.net/syncbase-allocator (got "${allocator}")`,
    );
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed.hostname))) {
    throw new Error(`--allocator must be an https URL (http only for a local allocator on 127.0.0.1): got "${allocator}"`);
  }
  const url = (fn: string): string => (value.includes('{function}') ? value.replaceAll('{function}', fn) : `${value}-${fn}`);
  return { create: url('create'), destroy: url('destroy'), list: url('list'), audience: value };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
