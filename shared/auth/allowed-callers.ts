import type { CallerIdentity } from './identity.ts';

/**
 * Who may use the allocator at all: exact emails, `*@domain` patterns, or `*`
 * for any verified Google identity. Admins always may. An empty list allows
 * anyone, for deployments where Cloud Run's IAM check already restricts callers.
 *
 * `*@domain` means the Google Workspace domain: the token's `hd` claim, as
 * Google advises, not the email alone, since a consumer Google account can
 * carry an email at a domain it does not administer. Service accounts have no
 * `hd`; for them (`*@project.iam.gserviceaccount.com`) the email decides.
 */
export function isAllowedCaller(
  caller: Pick<CallerIdentity, 'email' | 'kind' | 'hostedDomain'>,
  patterns: readonly string[],
  admins: readonly string[],
): boolean {
  const { email } = caller;
  if (patterns.length === 0 || admins.includes(email)) return true;
  return patterns.some((pattern) => {
    if (pattern === '*' || pattern === email) return true;
    if (!pattern.startsWith('*@')) return false;
    const domain = pattern.slice(2);
    if (!email.endsWith(`@${domain}`)) return false;
    return caller.kind === 'serviceAccount' || caller.hostedDomain === domain;
  });
}

/** Whether each entry is an email, `*@domain` or `*`. */
export function isCallerPattern(pattern: string): boolean {
  return pattern === '*' || /^(\*|[^@\s*]+)@[^@\s*]+\.[^@\s*]+$/.test(pattern);
}
