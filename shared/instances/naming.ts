import { createHash, randomBytes } from 'node:crypto';

/** A DNS-1035 label: what a Deployment name, a GCE disk name and a label value all accept. */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUFFIX_HEX_DIGITS = 8;

/** Whether `serverName` can prefix instance names (`<serverName>-<8 hex>` must stay within 63 characters). */
export function isValidServerName(serverName: string): boolean {
  return DNS_LABEL.test(serverName) && serverName.length <= 63 - 1 - SUFFIX_HEX_DIGITS;
}

/** A new instance name, `<serverName>-<8 random hex>`, as allocatord made them. */
export function newInstanceName(serverName: string, random: () => Buffer = () => randomBytes(SUFFIX_HEX_DIGITS / 2)): string {
  return `${serverName}-${random().toString('hex').slice(0, SUFFIX_HEX_DIGITS)}`;
}

/** Whether `name` is one that this allocator could have made. */
export function isInstanceNameOf(serverName: string, name: string): boolean {
  return name.length <= 63 && name.startsWith(`${serverName}-`) && /^[0-9a-f]{8}$/.test(name.slice(serverName.length + 1));
}

/** The owner hash of allocatord: hex SHA-1 of the (lower-cased) email. */
export function ownerHashOf(email: string): string {
  return createHash('sha1').update(email.toLowerCase()).digest('hex');
}

/** Where an instance publishes itself: `<mountRoot>/<name>`, or just the name without a root. */
export function mountNameOf(mountRoot: string, name: string): string {
  const root = mountRoot.replace(/\/+$/, '');
  return root === '' ? name : `${root}/${name}`;
}

/** The hash an Idempotency-Key is kept as: per caller, so equal keys of two callers never meet. */
export function idempotencyKeyHash(email: string, key: string): string {
  return createHash('sha256').update(`${email.toLowerCase()}\n${key}`).digest('hex');
}

/** The name a create with an Idempotency-Key gets: the same for every retry of it. */
export function idempotentInstanceName(serverName: string, email: string, key: string): string {
  return `${serverName}-${idempotencyKeyHash(email, key).slice(0, SUFFIX_HEX_DIGITS)}`;
}
