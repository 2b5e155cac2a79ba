import { OPERATION_KINDS } from '../model/transitions.ts';
import { EVENT_SUBJECTS, INSTANCE_STATES } from '../api-types.ts';
import type { JsonSchema } from './fields.ts';
import { PROGRESS_STEPS } from './progress.ts';

/** A Google API error: its status, canonical name, message and details. */
const GOOGLE_ERROR = {
  type: 'object',
  required: ['code', 'status', 'message'],
  properties: {
    code: { type: 'integer', description: 'The HTTP status.' },
    status: { type: 'string', description: 'The canonical status name: INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, ...' },
    message: { type: 'string' },
    details: {
      type: 'array',
      description:
        "Google's `google.rpc.ErrorInfo` details. A queued create's 409 ABORTED carries one with reason `QUEUED`, domain `allocator.dev`, and metadata `position` (1: next) and `ahead`.",
      items: {
        type: 'object',
        required: ['@type', 'reason', 'domain', 'metadata'],
        properties: {
          '@type': { type: 'string', const: 'type.googleapis.com/google.rpc.ErrorInfo' },
          reason: { type: 'string' },
          domain: { type: 'string' },
          metadata: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
} as const satisfies JsonSchema;

/**
 * The JSON Schemas of what the functions answer, as the OpenAPI description
 * publishes them under `components.schemas`. `shared/api-types.ts` holds the
 * same shapes as TypeScript types; a unit test checks the two agree.
 */
export const SCHEMAS = {
  Problem: {
    type: 'object',
    description: 'Something that keeps an instance from becoming ready, read from its pods and their Warning events.',
    required: ['reason', 'message', 'since', 'permanent'],
    properties: {
      reason: { type: 'string', description: "Kubernetes' reason: ImagePullBackOff, CrashLoopBackOff, FailedScheduling, FailedMount, ..." },
      message: { type: 'string' },
      since: { type: 'string', format: 'date-time', description: 'When it was first seen.' },
      permanent: {
        type: 'boolean',
        description:
          'It will not go away by waiting (an image or tag that does not exist, an invalid image name, a CreateContainerConfigError): ' +
          'a create, resume or reset waiting for the instance stops with a 400 FAILED_PRECONDITION.',
      },
    },
  },
  Endpoint: {
    type: 'object',
    description: "Where one port of one of the instance's Services answers.",
    required: ['service', 'name', 'protocol', 'host', 'port'],
    properties: {
      service: { type: 'string', description: "The Service's name." },
      name: { type: 'string', description: "The port's name (its number, as text, when it has none)." },
      protocol: { type: 'string', enum: ['TCP', 'UDP', 'SCTP'] },
      host: {
        type: 'string',
        description: 'The in-cluster name, `<service>.<namespace>.svc.cluster.local`: reachable from pods in the cluster.',
        examples: ['postgres-1a2b3c4d.allocator.svc.cluster.local'],
      },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      loadBalancer: {
        type: 'object',
        required: ['host', 'port'],
        properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
        description: "The internal load balancer's address, once one is assigned: reachable from the VPC.",
      },
    },
  },
  Instance: {
    type: 'object',
    description: 'An instance: one Deployment of the template, with its own persistent disk.',
    required: [
      'name',
      'owner',
      'mountName',
      'accessList',
      'creationTime',
      'replicas',
      'readyReplicas',
      'version',
      'disk',
      'expiresAt',
      'parameters',
      'state',
      'problems',
      'collaborators',
      'endpoints',
    ],
    properties: {
      name: { type: 'string', examples: ['syncbased-1a2b3c4d'] },
      owner: { type: 'string', description: 'The verified email of the token that created it, or of whom it was transferred to.' },
      mountName: { type: 'string', description: 'Where the instance publishes itself: <mount root>/<name>.' },
      accessList: {
        type: 'object',
        required: ['In'],
        properties: { In: { type: 'array', items: { type: 'string' } } },
        description: 'Who the instance lets in: its owner, its collaborators and the admins, in the configured format.',
      },
      creationTime: { type: 'string', format: 'date-time' },
      replicas: { type: 'integer', minimum: 0 },
      readyReplicas: { type: 'integer', minimum: 0 },
      version: { type: 'string' },
      disk: { type: 'string', description: 'The name of its Compute Engine persistent disk.' },
      expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'When the cleanup sweep destroys it; null: never.' },
      parameters: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: "The parameters it was made with (create's `parameters`, defaults filled in); empty when the allocator declares none.",
      },
      state: { enum: [...INSTANCE_STATES] },
      problems: { type: 'array', items: { $ref: '#/components/schemas/Problem' } },
      endpoints: {
        type: 'array',
        items: { $ref: '#/components/schemas/Endpoint' },
        description: 'Where its Services answer, one entry per port; empty when the template makes no Service.',
      },
      collaborators: {
        type: 'array',
        items: { type: 'string' },
        description: 'Who the owner shares it with: they see it in their list and may extend, suspend and resume it.',
      },
      sharedWithMe: { type: 'boolean', description: "In list's answer: true when it is someone else's, shared with the caller." },
      operations: {
        type: 'array',
        items: { type: 'string', enum: [...OPERATION_KINDS] },
        description:
          "In list's answer: the operations the caller may run on it now, from the table of transitions (its phase, the caller's role and token).",
      },
    },
  },
  Transferred: {
    type: 'object',
    required: ['name', 'owner', 'transferred'],
    additionalProperties: false,
    description: "What the previous owner's re-sent transfer is answered: it is done, and to whom.",
    properties: {
      name: { type: 'string' },
      owner: { type: 'string', description: 'The new owner.' },
      transferred: { type: 'boolean', const: true },
    },
  },
  TransferAnswer: {
    description: "The instance with its new owner; to the previous owner's re-sent request, only that it was transferred.",
    oneOf: [{ $ref: '#/components/schemas/Instance' }, { $ref: '#/components/schemas/Transferred' }],
  },
  InstanceList: {
    type: 'object',
    required: ['instances'],
    properties: {
      instances: { type: 'array', items: { $ref: '#/components/schemas/Instance' }, description: 'Newest first.' },
      pool: {
        type: 'object',
        description: "With all: the warm pool of disks, which counts toward no one's limit (its free disks: the sweep's report).",
        required: ['size'],
        properties: { size: { type: 'integer', minimum: 0, description: 'How many free disks it keeps made ahead (0: off).' } },
      },
    },
  },
  Destroyed: {
    type: 'object',
    required: ['name', 'destroyed'],
    properties: {
      name: { type: 'string' },
      destroyed: { const: true },
      restorableUntil: {
        type: 'string',
        format: 'date-time',
        description: 'With a restore window: until when `restore` can bring it back on the same disk. Absent: the destroy was final.',
      },
    },
  },
  DestroyedInstance: {
    type: 'object',
    description: 'A destroyed instance whose disk is kept, so that it can be restored.',
    required: ['name', 'owner', 'mountName', 'destroyedAt', 'restorableUntil'],
    properties: {
      name: { type: 'string', examples: ['syncbased-1a2b3c4d'] },
      owner: { type: 'string' },
      mountName: { type: 'string' },
      destroyedAt: { type: 'string', format: 'date-time' },
      restorableUntil: { type: 'string', format: 'date-time', description: 'Then the cleanup sweep deletes its disk.' },
    },
  },
  DestroyedList: {
    type: 'object',
    required: ['destroyed', 'restoreWindowSeconds'],
    properties: {
      destroyed: { type: 'array', items: { $ref: '#/components/schemas/DestroyedInstance' }, description: 'Newest destroy first.' },
      restoreWindowSeconds: {
        type: 'integer',
        minimum: 0,
        description:
          'How long a destroy keeps the disk so that restore can bring the instance back; 0: restore is off, and this list is always empty.',
      },
    },
  },
  SweepReport: {
    type: 'object',
    description: 'What one sweep did or, in a dry run, would do.',
    required: [
      'dryRun',
      'startedAt',
      'finishedAt',
      'expired',
      'orphanDisks',
      'orphanDeployments',
      'orphanSlots',
      'failed',
      'reconciled',
      'deferred',
      'scanned',
      'pool',
    ],
    properties: {
      dryRun: { type: 'boolean' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      expired: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'owner', 'expiresAt'],
          properties: { name: { type: 'string' }, owner: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
        },
      },
      orphanDisks: { type: 'array', items: { $ref: '#/components/schemas/Orphan' } },
      orphanDeployments: { type: 'array', items: { $ref: '#/components/schemas/Orphan' } },
      orphanSlots: {
        type: 'array',
        description:
          'Limit slots held for instances that do not exist, or (with ownerHash) for an owner the instance no longer has: a transfer left it.',
        items: {
          type: 'object',
          required: ['name', 'instance'],
          properties: { name: { type: 'string' }, instance: { type: 'string' }, ownerHash: { type: 'string' } },
        },
      },
      failed: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kind', 'name', 'error'],
          properties: { kind: { type: 'string' }, name: { type: 'string' }, error: { type: 'string' } },
        },
      },
      reconciled: {
        type: 'array',
        description:
          "What the walk of the records did (in a dry run, would do), one line each: an operation past its deadline ended, an instance whose Deployment is gone torn down (a create killed before it), a destroyed one past its window dropped, a place in line whose waiter went away removed. A disk or slot that a record needs is its instance's, never an orphan.",
        items: { type: 'string' },
      },
      deferred: { type: 'integer', minimum: 0, description: 'Destroys left for the next sweep by the per-run bound.' },
      scanned: {
        type: 'object',
        required: ['deployments', 'disks', 'slots'],
        properties: { deployments: { type: 'integer' }, disks: { type: 'integer' }, slots: { type: 'integer' } },
      },
      pool: { $ref: '#/components/schemas/PoolReport' },
    },
  },
  PoolReport: {
    type: 'object',
    description:
      "The warm pool of disks (ALLOCATOR_DISK_POOL_SIZE): free disks made ahead that creates claim. Its disks count toward no one's limit.",
    required: ['size', 'free', 'made', 'retired'],
    properties: {
      size: { type: 'integer', minimum: 0, description: 'How many free disks the pool keeps (0: off).' },
      free: { type: 'integer', minimum: 0, description: 'Its free disks when the sweep began, ready or being made.' },
      made: { type: 'integer', minimum: 0, description: 'Disks made to top it up (in a dry run: to be made).' },
      retired: {
        type: 'array',
        description: 'Disks deleted: beyond the size, made to a disk setting since changed, or left by an earlier sweep.',
        items: {
          type: 'object',
          required: ['name', 'why'],
          properties: { name: { type: 'string' }, why: { type: 'string', enum: ['beyond-size', 'spec-changed', 'retiring'] } },
        },
      },
    },
  },
  Orphan: {
    type: 'object',
    required: ['name', 'createdAt'],
    properties: { name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
  },
  Error: {
    type: 'object',
    description: 'The error shape of Google APIs.',
    required: ['error'],
    properties: {
      error: GOOGLE_ERROR,
    },
  },
  ProgressLine: {
    type: 'object',
    description:
      'One line of a progress stream (`application/x-ndjson`, asked for with `Accept`): a step as it happens, then, last, the ' +
      'status and body the answer would have had, `answer` on success or `error` on failure. The stream itself is sent with ' +
      "the operation's success status, before the outcome is known: the last line's `status` is the one to read.",
    required: ['at'],
    properties: {
      at: { type: 'string', format: 'date-time', description: 'When the allocator saw it.' },
      step: {
        type: 'string',
        enum: Object.keys(PROGRESS_STEPS),
        description: Object.entries(PROGRESS_STEPS)
          .map(([step, { meaning }]) => `\`${step}\`: ${meaning}`)
          .join(' '),
      },
      name: { type: 'string', description: 'The instance, once known (a create draws its name first).' },
      message: { type: 'string', description: 'The step in words, for a person.' },
      ahead: { type: 'integer', minimum: 0, description: 'With `queued`: how many are in line before it.' },
      pooled: { type: 'boolean', description: 'With `disk`: it came from the warm pool.' },
      problems: {
        type: 'array',
        items: { $ref: '#/components/schemas/Problem' },
        description: 'With `problems`: what keeps it from starting.',
      },
      status: { type: 'integer', description: 'On the last line: the HTTP status of the answer it carries.' },
      answer: { $ref: '#/components/schemas/Instance' },
      error: GOOGLE_ERROR,
      retryAfterSeconds: {
        type: 'integer',
        minimum: 0,
        description: 'With `error`: when to send the request again, as `Retry-After` says.',
      },
    },
  },
  LogLines: {
    type: 'string',
    description:
      "An instance's log lines as text, one a line, each `<RFC 3339 time with nanoseconds> <text>`, as the Kubernetes log API gives them " +
      'with `timestamps=true`; sent as they come (chunked), so a client reads each line when it arrives.',
    examples: ['2026-01-02T15:04:05.123456789Z listening on :8101\n'],
  },
  ClusterEvent: {
    type: 'object',
    description: 'One thing Kubernetes reported about an instance, in plain words; its repeats folded into `count`.',
    required: ['time', 'about', 'warning', 'count', 'reason', 'message'],
    additionalProperties: false,
    properties: {
      time: { type: 'string', format: 'date-time', description: 'When it last happened.' },
      firstTime: { type: 'string', format: 'date-time', description: 'When it first happened, if it happened more than once.' },
      about: {
        enum: [...EVENT_SUBJECTS],
        description: 'What it is about: the instance as a whole (its Deployment and ReplicaSets), its pod, or one of its Services.',
      },
      service: { type: 'string', description: "With `about: service`: the Service's name." },
      warning: { type: 'boolean', description: 'Something went wrong (a Kubernetes Warning), rather than the normal course of things.' },
      count: { type: 'integer', minimum: 1, description: 'How many times it happened.' },
      reason: {
        type: 'string',
        description: "Kubernetes' own reason (BackOff, FailedScheduling, Pulled, ...), for scripts; `message` says it for people.",
      },
      message: {
        type: 'string',
        description: "What happened, in plain words, without Kubernetes' internal names.",
        examples: [
          'Its container syncbased keeps crashing; waiting before starting it again',
          'No node could run it: 2 of 2 have too little CPU free',
        ],
      },
    },
  },
  ClusterEventList: {
    type: 'object',
    required: ['events'],
    properties: {
      events: {
        type: 'array',
        items: { $ref: '#/components/schemas/ClusterEvent' },
        description: 'Oldest first, by when each last happened; Kubernetes keeps events for about an hour.',
      },
    },
  },
  InstanceEvents: {
    type: 'string',
    description:
      'Server-sent events (text/event-stream): `event: instance` with an Instance as `data`, `event: deleted` with `{"name": ...}`, ' +
      '`event: synced` with `{"names": [...]}` (every instance the caller now sees; a client drops any other). An `id:` line says ' +
      'where the stream stands; a block with only an `id:` moves it on without a change to show.',
    examples: ['event: synced\nid: 48213,48190\ndata: {"names":[]}\n\n'],
  },
} as const satisfies Record<string, JsonSchema>;

export type SchemaName = keyof typeof SCHEMAS;
