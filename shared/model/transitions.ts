/**
 * The life of an instance, declared once: its phases, and for each operation
 * the phases it may start from, the phase it holds while it runs (with a
 * holder and a deadline: that is the instance's lock), where it ends, where a
 * failure leaves it, and who may run it with which token. The executors, the
 * policy, list's `operations`, the dashboard, the CLI's refusals and the state
 * diagram in docs/architecture.md all read this table.
 */

/** Where an instance is in its life. Ready, starting and failing are its readiness while running, not phases. */
export const PHASES = [
  'queued',
  'provisioning',
  'running',
  'suspended',
  'resetting',
  'restarting',
  'destroying',
  'destroyed',
  'restoring',
  'gone',
] as const;
export type Phase = (typeof PHASES)[number];

export function isPhase(value: unknown): value is Phase {
  return typeof value === 'string' && (PHASES as readonly string[]).includes(value);
}

/** The phases in which an instance holds its limit slots: from its claim until its teardown lets them go. */
export const HOLDS_SLOTS: ReadonlySet<Phase> = new Set<Phase>(PHASES.filter((phase) => !['queued', 'destroyed', 'gone'].includes(phase)));

/** The phases in which an instance needs its disk: every one but queued (none yet) and gone; destroyed keeps it for a restore. */
export const NEEDS_DISK: ReadonlySet<Phase> = new Set<Phase>(PHASES.filter((phase) => phase !== 'queued' && phase !== 'gone'));

/** Who the caller is to an instance. */
export const ROLES = ['owner', 'collaborator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Which tokens may run an operation: any the allocator accepts, or only one minted for this allocator (not gcloud's). */
export type TokenRule = 'any' | 'bound';

/** A phase, or `same`: the phase the operation started in. */
export type Target = Phase | 'same';

export interface Transition {
  /** The phases it may start from; empty for create, which starts from nothing. */
  readonly from: readonly Phase[];
  /** The phase it holds while it runs, with its holder and deadline. */
  readonly through: Target;
  /** Where it ends: the first, or another of these as it decides (destroy: kept for a restore, or gone). */
  readonly to: readonly [Target, ...Target[]];
  /** Where a failure leaves it. */
  readonly onFailure: Target;
  readonly who: readonly Role[];
  readonly tokens: TokenRule;
  /** How a refusal names it: "cannot be <verb>". */
  readonly verb: string;
}

const everyone: readonly Role[] = ['owner', 'collaborator', 'admin'];
const ownerOrAdmin: readonly Role[] = ['owner', 'admin'];
const live: readonly Phase[] = ['running', 'suspended'];

/** Every operation that changes an instance, declared once. */
export const TRANSITIONS = {
  create: {
    from: [],
    through: 'provisioning',
    to: ['running'],
    onFailure: 'gone',
    who: ['owner'],
    tokens: 'any',
    verb: 'created',
  },
  extend: {
    from: ['provisioning', ...live],
    through: 'same',
    to: ['same'],
    onFailure: 'same',
    who: everyone,
    tokens: 'any',
    verb: 'extended',
  },
  suspend: { from: live, through: 'same', to: ['suspended'], onFailure: 'same', who: everyone, tokens: 'any', verb: 'suspended' },
  resume: { from: live, through: 'provisioning', to: ['running'], onFailure: 'same', who: everyone, tokens: 'any', verb: 'resumed' },
  restart: {
    from: ['running'],
    through: 'restarting',
    to: ['running'],
    onFailure: 'running',
    who: everyone,
    tokens: 'any',
    verb: 'restarted',
  },
  reset: { from: live, through: 'resetting', to: ['running'], onFailure: 'suspended', who: ownerOrAdmin, tokens: 'any', verb: 'reset' },
  share: { from: live, through: 'same', to: ['same'], onFailure: 'same', who: ownerOrAdmin, tokens: 'bound', verb: 'shared' },
  unshare: { from: live, through: 'same', to: ['same'], onFailure: 'same', who: ownerOrAdmin, tokens: 'bound', verb: 'unshared' },
  transfer: { from: live, through: 'same', to: ['same'], onFailure: 'same', who: ownerOrAdmin, tokens: 'bound', verb: 'transferred' },
  destroy: {
    from: ['provisioning', ...live, 'resetting', 'restarting', 'destroying', 'destroyed'],
    through: 'destroying',
    to: ['gone', 'destroyed'],
    onFailure: 'destroying',
    who: ownerOrAdmin,
    tokens: 'any',
    verb: 'destroyed',
  },
  restore: {
    from: ['destroyed'],
    through: 'restoring',
    to: ['running'],
    onFailure: 'destroyed',
    who: ownerOrAdmin,
    tokens: 'bound',
    verb: 'restored',
  },
} as const satisfies Record<string, Transition>;

export type OperationKind = keyof typeof TRANSITIONS;
export const OPERATION_KINDS = Object.keys(TRANSITIONS) as OperationKind[];

/** A target resolved for an operation started in `from`. */
export function resolve(target: Target, from: Phase): Phase {
  return target === 'same' ? from : target;
}

/**
 * The phase an operation started in `from` holds while it runs. Those that
 * keep their phase (extend, suspend, share) mark only that they hold it.
 */
export function holdingPhase(kind: OperationKind, from: Phase): Phase {
  return resolve(TRANSITIONS[kind].through, from);
}

/** Where `kind`, started in `from`, ends: its first target, or `chosen` when it is one of its targets. */
export function endPhase(kind: OperationKind, from: Phase, chosen?: Phase): Phase {
  const targets = TRANSITIONS[kind].to.map((target) => resolve(target, from));
  return chosen !== undefined && targets.includes(chosen) ? chosen : targets[0]!;
}

/** Where a failure of `kind`, started in `from`, leaves the instance. */
export function failurePhase(kind: OperationKind, from: Phase): Phase {
  return resolve(TRANSITIONS[kind].onFailure, from);
}

/** What the caller is, to the operations: their role on the instance and whether their token is bound to this allocator. */
export interface Standing {
  readonly role: Role;
  readonly boundToken: boolean;
}

/** Why `kind` may not run now, or undefined when it may. */
export type Refusal =
  | { readonly reason: 'role' }
  | { readonly reason: 'token' }
  | { readonly reason: 'phase'; readonly phase: Phase; readonly from: readonly Phase[] };

export function refusalOf(kind: OperationKind, phase: Phase, standing: Standing): Refusal | undefined {
  const transition: Transition = TRANSITIONS[kind];
  if (!transition.who.includes(standing.role)) return { reason: 'role' };
  // An admin's reach always needs a bound token; the owner's, for the operations that say so.
  if (!standing.boundToken && (transition.tokens === 'bound' || standing.role === 'admin')) return { reason: 'token' };
  if (!transition.from.includes(phase)) return { reason: 'phase', phase, from: transition.from };
  return undefined;
}

/** The operations the caller may run on an instance in `phase` now, in the table's order. */
export function allowedOperations(phase: Phase, standing: Standing): OperationKind[] {
  return OPERATION_KINDS.filter((kind) => kind !== 'create' && refusalOf(kind, phase, standing) === undefined);
}

/** Words for a refusal by phase, for a person: "instance x is suspended; it can be restarted when running". */
export function phaseRefusalMessage(name: string, kind: OperationKind, phase: Phase): string {
  const { from, verb } = TRANSITIONS[kind];
  const when = from.length === 0 ? 'never' : `only when ${from.join(' or ')}`;
  return `instance ${name} is ${phase}; it can be ${verb} ${when}`;
}

/** The state diagram of the table, as Mermaid (GitHub draws it): one arrow per phase an operation starts from. */
export function mermaidDiagram(): string {
  const lines = ['stateDiagram-v2', '  [*] --> queued: create (at a limit, with queue)', '  queued --> provisioning: its turn'];
  const node = (phase: Phase): string => (phase === 'gone' ? '[*]' : phase);
  for (const kind of OPERATION_KINDS) {
    const transition: Transition = TRANSITIONS[kind];
    const starts: readonly (Phase | '[*]')[] = transition.from.length === 0 ? ['[*]'] : transition.from;
    for (const start of starts) {
      const from = start === '[*]' ? resolve(transition.through, 'gone') : start;
      const through = holdingPhase(kind, from);
      if (through !== start) lines.push(`  ${start} --> ${through}: ${kind}`);
      for (const target of transition.to) {
        const to = resolve(target, from);
        if (to !== through) lines.push(`  ${through} --> ${node(to)}: ${through === start ? kind : `${kind} done`}`);
      }
    }
  }
  lines.push('  destroyed --> [*]: restore window over (sweep)');
  return [...new Set(lines)].join('\n');
}
