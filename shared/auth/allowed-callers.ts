import type { CallerIdentity } from './identity.ts';

/**
 * Entries of ALLOCATOR_ADMINS and ALLOCATOR_ALLOWED_CALLERS name accounts:
 * an email, or `sub:<Google account id>`, which no other account can ever
 * hold. An email of a Workspace domain (`workspaceDomains`) names the account
 * only when the token's `hd` is that domain: a consumer account, or one
 * outside the organisation, can carry the same address.
 */
export function namesAccount(
  entry: string,
  caller: Pick<CallerIdentity, 'email' | 'subject' | 'kind' | 'hostedDomain'>,
  workspaceDomains: readonly string[],
): boolean {
  if (entry.startsWith(SUBJECT_PREFIX)) return entry.slice(SUBJECT_PREFIX.length) === caller.subject;
  if (entry !== caller.email) return false;
  const domain = domainOf(entry);
  return caller.kind === 'serviceAccount' || !workspaceDomains.includes(domain) || caller.hostedDomain === domain;
}

export const SUBJECT_PREFIX = 'sub:';

/**
 * Who may use the allocator at all: accounts (see `namesAccount`) and
 * `*@domain` patterns. Admins always may. An empty list allows anyone, for
 * deployments where Cloud Run's IAM check already restricts callers.
 *
 * `*@domain` means the Google Workspace domain: the token's `hd` claim, as
 * Google advises, not the email alone, since a consumer Google account can
 * carry an email at a domain it does not administer. Service accounts have no
 * `hd`; for them (`*@project.iam.gserviceaccount.com`) the email decides.
 */
export function isAllowedCaller(
  caller: Pick<CallerIdentity, 'email' | 'subject' | 'kind' | 'hostedDomain'>,
  policy: { readonly allowedCallers: readonly string[]; readonly admins: readonly string[]; readonly workspaceDomains: readonly string[] },
): boolean {
  const { allowedCallers, admins, workspaceDomains } = policy;
  if (allowedCallers.length === 0 || admins.some((entry) => namesAccount(entry, caller, workspaceDomains))) return true;
  return allowedCallers.some((pattern) => {
    if (!pattern.startsWith('*@')) return namesAccount(pattern, caller, workspaceDomains);
    const domain = pattern.slice(2);
    if (!caller.email.endsWith(`@${domain}`)) return false;
    return caller.kind === 'serviceAccount' || caller.hostedDomain === domain;
  });
}

/** Whether each entry is an email, `sub:<id>` or `*@domain`. */
export function isCallerPattern(pattern: string): boolean {
  return isAccountEntry(pattern) || /^\*@[^@\s*]+\.[^@\s*]+$/.test(pattern);
}

/** An email or `sub:<digits>`. */
export function isAccountEntry(entry: string): boolean {
  return /^sub:\d{1,64}$/.test(entry) || /^[^@\s*]+@[^@\s*]+\.[^@\s*]+$/.test(entry);
}

/** The domains whose `*@domain` pattern would admit accounts of anybody: consumer mail, and service accounts of every project. */
const SHARED_DOMAIN =
  /^(gmail\.com|googlemail\.com|gserviceaccount\.com|(?!.+\.iam\.gserviceaccount\.com$).*\.gserviceaccount\.com|iam\.gserviceaccount\.com)$/;

/**
 * Why a pattern admits the world, or undefined. `*@developer.gserviceaccount.com`
 * matches the default compute account of every project, since the
 * service-account branch cannot check `hd`; `*@gmail.com` matches anyone
 * who makes an account.
 */
export function admitsTheWorld(pattern: string): string | undefined {
  if (pattern === '*') return '"*" admits every Google account';
  if (!pattern.startsWith('*@')) return undefined;
  const domain = pattern.slice(2);
  if (SHARED_DOMAIN.test(domain)) {
    return domain.endsWith('gserviceaccount.com')
      ? `"${pattern}" admits service accounts of every project; name your project's (*@<project>.iam.gserviceaccount.com) or each account`
      : `"${pattern}" admits anyone who makes a Google account there; name each account`;
  }
  return undefined;
}

export function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}
