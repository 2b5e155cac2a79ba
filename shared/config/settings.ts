import { admitsTheWorld, isAccountEntry, isCallerPattern } from '../auth/allowed-callers.ts';
import { AUTH_MODES, GOOGLE_CERTS_URL } from '../auth/token-verifier.ts';
import { isValidServerName } from '../instances/naming.ts';
import { ConfigError } from './config-error.ts';

/** The environment, or the same keys in `ALLOCATOR_CONFIG_FILE`. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * One setting, declared once: its variable, its default, the parser that
 * turns the variable's text into a typed value (throwing a `ConfigError` that
 * names the variable), and what it means. docs/deploy.md's table of settings
 * is made from these (`npm run docs:api`).
 */
export interface Setting<T> {
  /** The environment variable, also a key of `ALLOCATOR_CONFIG_FILE`. */
  readonly env: string;
  /** What it sets, as docs/deploy.md says it. */
  readonly meaning: string;
  /** Its default, as docs/deploy.md says it. */
  readonly defaultText: string;
  /** A file path, which in `ALLOCATOR_CONFIG_FILE` is relative to that file. */
  readonly path?: boolean;
  /** The value of the variable's trimmed text; `undefined` when it is unset or empty. */
  readonly parse: (text: string | undefined) => T;
}

/** The value a setting parses to. */
export type SettingValue<S> = S extends Setting<infer T> ? T : never;

/** A setting's trimmed text; empty counts as unset. */
export function settingText(env: Env, setting: Setting<unknown>): string | undefined {
  const value = env[setting.env]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Reads and parses one setting. */
export function readSetting<T>(env: Env, setting: Setting<T>): T {
  return setting.parse(settingText(env, setting));
}

/** Reads a setting that another one makes required, naming what to set it to. */
export function requiredSetting(env: Env, setting: Setting<string | undefined>, what: string): string {
  const value = readSetting(env, setting);
  if (value === undefined) throw new ConfigError(`${setting.env} is required: set it to ${what}`);
  return value;
}

// ---- Kinds of settings ----

interface Declared {
  readonly env: string;
  readonly meaning: string;
  readonly defaultText?: string;
  readonly path?: boolean;
}

/** A setting with a parser of its own. */
function custom<T>(declared: Declared & { readonly defaultText: string; readonly parse: (text: string | undefined) => T }): Setting<T> {
  return declared;
}

/** Free text; without a default, `undefined` when unset. */
function text(declared: Declared & { readonly default: string }): Setting<string>;
function text(declared: Declared): Setting<string | undefined>;
function text(declared: Declared & { readonly default?: string }): Setting<string | undefined> {
  const { default: fallback, ...rest } = declared;
  return {
    ...rest,
    defaultText: declared.defaultText ?? (fallback === undefined ? 'none' : fallback === '' ? 'empty' : `\`${fallback}\``),
    parse: (value) => value ?? fallback,
  };
}

/** A whole number of at least `min`. */
function wholeNumber(declared: Declared & { readonly default: number; readonly min: number }): Setting<number> {
  const { default: fallback, min, ...rest } = declared;
  return {
    ...rest,
    defaultText: declared.defaultText ?? `\`${fallback}\``,
    parse: (value) => {
      if (value === undefined) return fallback;
      const number = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min)
        throw new ConfigError(`${declared.env} must be a whole number >= ${min} (got "${value}")`);
      return number;
    },
  };
}

/** A whole number of seconds, of at least `min`, read as milliseconds. */
function seconds(declared: Declared & { readonly default: number; readonly min: number }): Setting<number> {
  const whole = wholeNumber(declared);
  return { ...whole, parse: (value) => whole.parse(value) * 1000 };
}

/** A comma-separated list, each item trimmed (and lowercased with `lowercase`), empty items dropped; `check` refuses an item. */
function list(
  declared: Declared & { readonly lowercase?: boolean; readonly check?: (items: readonly string[]) => void },
): Setting<readonly string[]> {
  const { lowercase, check, ...rest } = declared;
  return {
    ...rest,
    defaultText: declared.defaultText ?? 'none',
    parse: (value) => {
      const items = (value ?? '')
        .split(',')
        .map((item) => (lowercase ? item.trim().toLowerCase() : item.trim()))
        .filter((item) => item !== '');
      check?.(items);
      return items;
    },
  };
}

/** One of `values`. */
function oneOf<const V extends string>(declared: Declared & { readonly values: readonly V[]; readonly default: V }): Setting<V> {
  const { values, default: fallback, ...rest } = declared;
  return {
    ...rest,
    defaultText: declared.defaultText ?? `\`${fallback}\``,
    parse: (value) => {
      const chosen = value ?? fallback;
      if (!(values as readonly string[]).includes(chosen))
        throw new ConfigError(`${declared.env} must be one of ${values.join(', ')} (got "${chosen}")`);
      return chosen as V;
    },
  };
}

/** An http(s) URL; `strict` also requires that it parse as one. */
function httpUrl(declared: Declared & { readonly default: string; readonly strict?: boolean }): Setting<string> {
  const { default: fallback, strict, ...rest } = declared;
  return {
    ...rest,
    defaultText: declared.defaultText ?? `\`${fallback}\``,
    parse: (value) => {
      const url = value ?? fallback;
      if (!/^https?:\/\//.test(url) || (strict && !URL.canParse(url)))
        throw new ConfigError(`${declared.env} must be an http(s) URL (got "${url}")`);
      return url;
    },
  };
}

/** The origin of a URL that may hold `{function}`, as the allocator value may. */
export function originOf(text: string, key: string): string {
  try {
    return new URL(text.replace('{function}', 'function')).origin;
  } catch (error) {
    throw new ConfigError(`${key} must hold URLs (got "${text}")`, { cause: error });
  }
}

// ---- Values that other modules name ----

/** What a token minted for gcloud may do here. */
export const GCLOUD_TOKENS = ['own-instances', 'refuse'] as const;
export type GcloudTokens = (typeof GCLOUD_TOKENS)[number];

/** The defaults of the disk settings: the bench's cost of a warm pool is figured from them. */
export const DISK_DEFAULTS = { sizeGb: 10, poolSize: 2 } as const;

export const GOOGLE_SIGN_IN_SCRIPT = 'https://accounts.google.com/gsi/client';
export const GOOGLE_AUTHORIZATION_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GOOGLE_REVOCATION_URL = 'https://oauth2.googleapis.com/revoke';

const PROJECT_PATH = String.raw`(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?(?:projects/[a-z0-9](?:[-a-z0-9.:]*[a-z0-9])?/)?global/`;
const RESOURCE_NAME = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';

/** A golden disk's source of one kind: a Compute Engine resource URL or partial path. */
function diskSource(declared: Declared & { readonly kind: 'snapshot' | 'image'; readonly pattern: RegExp; readonly example: string }) {
  const { kind, pattern, example, ...rest } = declared;
  return custom({
    ...rest,
    defaultText: 'none: empty disks',
    parse: (value) => {
      if (value !== undefined && !pattern.test(value))
        throw new ConfigError(
          `${declared.env} must be a Compute Engine ${kind}'s URL or partial path, such as ${example} (got "${value}")`,
        );
      return value;
    },
  });
}

// ---- The settings ----

/**
 * Every setting, in docs/deploy.md's order. The configuration
 * (`parseServiceConfig`, `loadConfig`) is read through this table alone.
 */
export const SETTINGS = {
  configFile: text({
    env: 'ALLOCATOR_CONFIG_FILE',
    meaning:
      'a file of `KEY=VALUE` lines, the same keys as these; the environment wins, and relative paths in the file are relative to the file',
  }),
  vkubeCfg: text({
    env: 'ALLOCATOR_VKUBE_CFG',
    path: true,
    meaning:
      'the seed\'s vkube.cfg (`{"project", "location", "cluster", "namespace"?, "endpoint"?}`; the seed\'s `"zone"` works in place of `"location"`): a GKE cluster, zonal or regional, reached through the GKE API with the function\'s Google credentials and a fresh access token on every request. `"endpoint": "dns"` uses the cluster\'s DNS-based control-plane endpoint (for a private IP endpoint or authorized networks; it must allow external traffic), `"ip"` (default) its IP endpoint',
    defaultText: 'set it or `ALLOCATOR_KUBECONFIG`',
  }),
  kubeconfig: text({
    env: 'ALLOCATOR_KUBECONFIG',
    path: true,
    meaning: 'a kubeconfig, for other clusters and local runs',
    defaultText: 'set it or `ALLOCATOR_VKUBE_CFG`',
  }),
  namespace: text({
    env: 'ALLOCATOR_NAMESPACE',
    meaning: 'namespace of the instances',
    defaultText: "vkube.cfg's, else `allocator` (with `ALLOCATOR_KUBECONFIG`: `default`)",
  }),
  gceProject: text({
    env: 'ALLOCATOR_GCE_PROJECT',
    meaning: 'the project of the disks',
    defaultText: "vkube.cfg's project; required with `ALLOCATOR_KUBECONFIG`",
  }),
  gceZone: text({
    env: 'ALLOCATOR_GCE_ZONE',
    meaning: "the zone of the disks; a regional cluster needs it set, one of its region's",
    defaultText: "vkube.cfg's location, if that is a zone; required with `ALLOCATOR_KUBECONFIG`",
  }),
  serverName: custom({
    env: 'ALLOCATOR_SERVER_NAME',
    meaning:
      "prefix of instance names (`<server-name>-<8 hex>`), the seed's `--server-name`: lowercase letters, digits and dashes, starting with a letter, at most 54 characters",
    defaultText: 'required',
    parse: (value) => {
      if (value === undefined)
        throw new ConfigError('ALLOCATOR_SERVER_NAME is required: set it to the prefix of instance names, e.g. syncbased');
      if (!isValidServerName(value))
        throw new ConfigError(
          `ALLOCATOR_SERVER_NAME "${value}" must be lowercase letters, digits and dashes, start with a letter and be at most 54 characters`,
        );
      return value;
    },
  }),
  template: text({
    env: 'ALLOCATOR_TEMPLATE',
    path: true,
    meaning: 'the deployment template (`*.json.hbs` or `*.yaml.hbs`); create only, destroy and list ignore it',
    defaultText: 'required by create',
  }),
  parameters: text({
    env: 'ALLOCATOR_PARAMETERS',
    path: true,
    meaning:
      'a JSON or YAML file declaring the [parameters](templates.md#parameters) a create may choose, each with a description, a default and a rule (`enum`, or an anchored `pattern` with `maxLength`); create checks and renders them, list describes them in `/openapi.json`. A malformed file stops the function at start',
  }),
  internalLoadBalancers: oneOf({
    env: 'ALLOCATOR_INTERNAL_LOAD_BALANCERS',
    meaning:
      "whether a template's Service may be `type: LoadBalancer`: `refuse` (only ClusterIP, reachable inside the cluster) or `allow` (GKE's internal load balancer, reachable from the VPC; Allocator marks each one internal). Give infra/setup.sh the same (`--internal-load-balancers`), so that admission agrees",
    values: ['refuse', 'allow'] as const,
    default: 'refuse',
  }),
  mountRoot: text({
    env: 'ALLOCATOR_MOUNT_ROOT',
    meaning: 'instances publish at `<root>/<name>`',
    default: '',
    defaultText: 'empty: `<name>`',
  }),
  version: text({ env: 'ALLOCATOR_VERSION', meaning: "the template's `Version`", default: 'latest' }),
  diskSizeGb: wholeNumber({
    env: 'ALLOCATOR_DISK_SIZE_GB',
    meaning: "the instance disk's size in GB",
    default: DISK_DEFAULTS.sizeGb,
    min: 1,
  }),
  diskType: custom({
    env: 'ALLOCATOR_DISK_TYPE',
    meaning: "the instance disk's type",
    defaultText: '`pd-standard`',
    parse: (value = 'pd-standard') => {
      if (!/^[a-z][-a-z0-9]*$/.test(value))
        throw new ConfigError(`ALLOCATOR_DISK_TYPE must be a disk type name such as pd-standard or pd-ssd (got "${value}")`);
      return value;
    },
  }),
  diskSourceSnapshot: diskSource({
    env: 'ALLOCATOR_DISK_SOURCE_SNAPSHOT',
    kind: 'snapshot',
    pattern: new RegExp(`^${PROJECT_PATH}snapshots/${RESOURCE_NAME}$`),
    example: 'projects/my-project/global/snapshots/my-snapshot or global/snapshots/my-snapshot',
    meaning:
      "the snapshot every instance's disk is made from (`projects/p/global/snapshots/s`, `global/snapshots/s`, or the same as a full `https://www.googleapis.com/compute/v1/...` URL; a partial path without a project is in `ALLOCATOR_GCE_PROJECT`); at most one of this and `ALLOCATOR_DISK_SOURCE_IMAGE` ([Golden disks](#golden-disks))",
  }),
  diskSourceImage: diskSource({
    env: 'ALLOCATOR_DISK_SOURCE_IMAGE',
    kind: 'image',
    pattern: new RegExp(`^${PROJECT_PATH}images/(?:family/)?${RESOURCE_NAME}$`),
    example: 'projects/my-project/global/images/my-image, projects/my-project/global/images/family/my-family or global/images/my-image',
    meaning:
      "the image every instance's disk is made from (`projects/p/global/images/i`, `projects/p/global/images/family/f`, `global/images/i`, or the same as a full URL); at most one of this and `ALLOCATOR_DISK_SOURCE_SNAPSHOT`",
  }),
  diskPoolSize: wholeNumber({
    env: 'ALLOCATOR_DISK_POOL_SIZE',
    meaning:
      "how many free disks, made like every instance's (from the source if there is one), are kept ready for creates to claim ([The warm pool of disks](#the-warm-pool-of-disks)); `0`: off, every create makes its disk",
    default: DISK_DEFAULTS.poolSize,
    min: 0,
  }),
  maxInstancesPerUser: wholeNumber({
    env: 'ALLOCATOR_MAX_INSTANCES_PER_USER',
    meaning: 'how many instances one person may have; at most `ALLOCATOR_MAX_INSTANCES`',
    default: 1,
    min: 1,
    defaultText: "`1` (allocatord's)",
  }),
  maxInstances: wholeNumber({
    env: 'ALLOCATOR_MAX_INSTANCES',
    meaning: 'how many instances there may be in all',
    default: 10,
    min: 1,
    defaultText: "`10` (allocatord's)",
  }),
  maxCollaborators: wholeNumber({
    env: 'ALLOCATOR_MAX_COLLABORATORS',
    meaning: 'how many people one instance may be shared with (`allocator share`); 0 turns sharing off',
    default: 10,
    min: 0,
  }),
  admins: list({
    env: 'ALLOCATOR_ADMINS',
    lowercase: true,
    meaning:
      'accounts that may list and destroy every instance, with a token bound to this allocator, comma-separated: emails (on every access list) or `sub:<account id>`',
    check: (admins) => {
      const bad = admins.find((entry) => !isAccountEntry(entry));
      if (bad !== undefined)
        throw new ConfigError(`ALLOCATOR_ADMINS must be comma-separated emails or sub:<account id> entries (got "${bad}")`);
    },
  }),
  audiences: list({
    env: 'ALLOCATOR_AUDIENCES',
    meaning:
      "accepted token audiences, comma-separated: the functions' URL or custom audience, and `32555940559.apps.googleusercontent.com` to accept `gcloud auth print-identity-token` from people",
    defaultText: 'required',
    check: (audiences) => {
      if (audiences.length === 0)
        throw new ConfigError(
          "ALLOCATOR_AUDIENCES is required: set it to the audiences tokens may carry, comma-separated (the functions' URL or custom audience; add 32555940559.apps.googleusercontent.com to accept `gcloud auth print-identity-token` from people)",
        );
    },
  }),
  allowedCallers: list({
    env: 'ALLOCATOR_ALLOWED_CALLERS',
    lowercase: true,
    meaning:
      "who may call at all, comma-separated: emails, `sub:<account id>` or `*@domain`. Patterns that admit the world (`*`, `*@gmail.com`, every project's service accounts) are refused",
    defaultText: "empty: any verified caller (for Cloud Run's IAM check to restrict)",
    check: (patterns) => {
      const bad = patterns.find((pattern) => !isCallerPattern(pattern) && admitsTheWorld(pattern) === undefined);
      if (bad !== undefined)
        throw new ConfigError(
          `ALLOCATOR_ALLOWED_CALLERS must be comma-separated emails, sub:<account id> entries or *@domain patterns (got "${bad}")`,
        );
      for (const pattern of patterns) {
        const why = admitsTheWorld(pattern);
        if (why) throw new ConfigError(`ALLOCATOR_ALLOWED_CALLERS: ${why}. Every caller there could then create instances.`);
      }
    },
  }),
  workspaceDomains: list({
    env: 'ALLOCATOR_WORKSPACE_DOMAINS',
    lowercase: true,
    meaning:
      "Google Workspace domains, comma-separated: an email there names an account only when the token's `hd` is the domain. The domain of every `*@domain` in `ALLOCATOR_ALLOWED_CALLERS` is one too",
  }),
  authMode: oneOf({ env: 'ALLOCATOR_AUTH_MODE', meaning: '`verify` or `trust-cloud-run-iam`', values: AUTH_MODES, default: 'verify' }),
  gcloudTokens: oneOf({
    env: 'ALLOCATOR_GCLOUD_TOKENS',
    meaning:
      "what a token minted for gcloud may do: `own-instances` (its holder's own instances, never an admin's powers) or `refuse` (gcloud's client id is dropped from the audiences)",
    values: GCLOUD_TOKENS,
    default: 'own-instances',
  }),
  tokenCertsUrl: httpUrl({
    env: 'ALLOCATOR_TOKEN_CERTS_URL',
    meaning: "where Google's PEM certificates are",
    default: GOOGLE_CERTS_URL,
    defaultText: "Google's",
  }),
  waitTimeout: seconds({
    env: 'ALLOCATOR_WAIT_TIMEOUT_SECONDS',
    meaning: 'the longest create, resume and reset wait for availability',
    default: 240,
    min: 1,
  }),
  createTimeout: seconds({
    env: 'ALLOCATOR_CREATE_TIMEOUT_SECONDS',
    meaning:
      "the create function's timeout, as deployed (`cloudbuild.yaml` sets it from `_CREATE_TIMEOUT`); each request of a queued create waits in line at most this less `ALLOCATOR_WAIT_TIMEOUT_SECONDS` and 20 s, then answers its place ([using.md](using.md#waiting-in-line-at-a-limit))",
    default: 300,
    min: 1,
  }),
  queueTicket: seconds({
    env: 'ALLOCATOR_QUEUE_TICKET_SECONDS',
    meaning:
      "how long a queued create's record stays in line without a renewal by its waiter: a waiter that went away holds up the line at most this long; at least 3",
    default: 20,
    min: 3,
  }),
  accessListFormat: custom({
    env: 'ALLOCATOR_ACCESS_LIST_FORMAT',
    meaning:
      "how each access-list entry (the template's `AccessList`, owner and admins alike) is written from an email, `{email}` replaced by it; allocatord used blessings, `dev.v.io:u:{email}`, and a real syncbased compares blessings, so a bare email locks its owner out",
    defaultText: '`{email}`',
    parse: (value = '{email}') => {
      if (value.split('{email}').length !== 2 || /[{}]/.test(value.replace('{email}', '')))
        throw new ConfigError(
          `ALLOCATOR_ACCESS_LIST_FORMAT must hold {email} once and no other braces, e.g. dev.v.io:u:{email} (got "${value}")`,
        );
      return value;
    },
  }),
  url: custom({
    env: 'ALLOCATOR_URL',
    meaning: "the allocator value callers use (the CLI's `--allocator`), which `/openapi.json` names as its server",
    defaultText: '`ALLOCATOR_DASHBOARD_ALLOCATOR`',
    parse: (value) => {
      if (value !== undefined && !URL.canParse(value.replace('{function}', 'function')))
        throw new ConfigError(`ALLOCATOR_URL must be the allocator's URL, as the CLI's --allocator (got "${value}")`);
      return value;
    },
  }),
  dashboardClientId: text({
    env: 'ALLOCATOR_DASHBOARD_CLIENT_ID',
    meaning:
      "the dashboard's OAuth client id; with the next, list serves the dashboard at `/dashboard/`, and the client id joins `ALLOCATOR_AUDIENCES`",
    defaultText: 'none: no dashboard',
  }),
  dashboardAllocator: custom({
    env: 'ALLOCATOR_DASHBOARD_ALLOCATOR',
    meaning: "the allocator value the page calls, as the CLI's `--allocator`",
    defaultText: 'none',
    parse: (value) => {
      if (value !== undefined) originOf(value, 'ALLOCATOR_DASHBOARD_ALLOCATOR');
      return value;
    },
  }),
  dashboardOrigins: list({
    env: 'ALLOCATOR_DASHBOARD_ORIGINS',
    meaning: 'origins whose pages may call the functions (CORS), comma-separated',
    defaultText: "the list function's origin",
    check: (urls) => urls.forEach((url) => originOf(url, 'ALLOCATOR_DASHBOARD_ORIGINS')),
  }),
  dashboardSignInScript: custom({
    env: 'ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT',
    meaning: "the sign-in script, Google Identity Services' client; the local token issuer serves a stand-in",
    defaultText: `\`${GOOGLE_SIGN_IN_SCRIPT}\``,
    parse: (value = GOOGLE_SIGN_IN_SCRIPT) => {
      originOf(value, 'ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT');
      return value;
    },
  }),
  cliClientId: text({
    env: 'ALLOCATOR_CLI_CLIENT_ID',
    meaning:
      'the OAuth client id (type "Desktop app") `allocator login` signs in with; published at list\'s `/openapi.json`, and it joins `ALLOCATOR_AUDIENCES`',
    defaultText: 'none: no `allocator login`',
  }),
  cliClientSecret: text({
    env: 'ALLOCATOR_CLI_CLIENT_SECRET',
    meaning: "that client's secret (not confidential for a Desktop app, but Google's token endpoint requires it); published with the id",
  }),
  oauthAuthorizationUrl: httpUrl({
    env: 'ALLOCATOR_OAUTH_AUTHORIZATION_URL',
    strict: true,
    meaning: "the OAuth authorization endpoint the CLI is told to use (the local stack points it at the token issuer's stand-in)",
    default: GOOGLE_AUTHORIZATION_URL,
    defaultText: "Google's",
  }),
  oauthTokenUrl: httpUrl({
    env: 'ALLOCATOR_OAUTH_TOKEN_URL',
    strict: true,
    meaning: 'the OAuth token endpoint the CLI is told to use',
    default: GOOGLE_TOKEN_URL,
    defaultText: "Google's",
  }),
  oauthRevocationUrl: httpUrl({
    env: 'ALLOCATOR_OAUTH_REVOCATION_URL',
    strict: true,
    meaning: 'the OAuth revocation endpoint, where `allocator logout` revokes its refresh token',
    default: GOOGLE_REVOCATION_URL,
    defaultText: "Google's",
  }),
  deleteTimeout: seconds({
    env: 'ALLOCATOR_DELETE_TIMEOUT_SECONDS',
    meaning: 'how long destroy, the sweep and a failed create wait for a deleted Deployment to go (and a reset for its pods)',
    default: 120,
    min: 1,
  }),
  diskReleaseTimeout: seconds({
    env: 'ALLOCATOR_DISK_RELEASE_TIMEOUT_SECONDS',
    meaning: 'how long destroy retries deleting a disk that is still attached',
    default: 300,
    min: 0,
  }),
  callTimeout: seconds({
    env: 'ALLOCATOR_CALL_TIMEOUT_SECONDS',
    meaning: 'timeout of each Kubernetes and Compute Engine call',
    default: 30,
    min: 1,
  }),
  defaultLifetime: wholeNumber({
    env: 'ALLOCATOR_DEFAULT_LIFETIME_SECONDS',
    meaning:
      'lifetime of an instance whose create asks for none; 0: never expires. With a maximum, it must be between 1 and `ALLOCATOR_MAX_LIFETIME_SECONDS`',
    default: 0,
    min: 0,
  }),
  maxLifetime: wholeNumber({
    env: 'ALLOCATOR_MAX_LIFETIME_SECONDS',
    meaning: 'the longest lifetime a create or an extension may ask for; 0: no maximum',
    default: 0,
    min: 0,
  }),
  restoreWindow: seconds({
    env: 'ALLOCATOR_RESTORE_WINDOW_SECONDS',
    meaning:
      "how long a destroy keeps the instance's disk so that `allocator restore` can bring it back; 0: a destroy is final (the deploy's `_RESTORE_WINDOW_SECONDS` is one day)",
    default: 0,
    min: 0,
  }),
  orphanGrace: seconds({
    env: 'ALLOCATOR_ORPHAN_GRACE_SECONDS',
    meaning: 'the sweep leaves anything younger than this alone, so that a create in flight is never touched',
    default: 900,
    min: 0,
  }),
  sweepMaxDestroys: wholeNumber({
    env: 'ALLOCATOR_SWEEP_MAX_DESTROYS',
    meaning: 'the most instances one sweep destroys; the rest wait for the next',
    default: 50,
    min: 1,
  }),
  computeEndpoint: custom({
    env: 'ALLOCATOR_COMPUTE_ENDPOINT',
    meaning: 'another Compute Engine endpoint (`http://host:port`): an emulator, which takes any token',
    defaultText: "Google's",
    parse: (value) => {
      if (value !== undefined && !/^https?:\/\/[^/]+\/?$/.test(value))
        throw new ConfigError(`ALLOCATOR_COMPUTE_ENDPOINT must look like http://host:port (got "${value}")`);
      return value;
    },
  }),
} satisfies Record<string, Setting<unknown>>;

/** Every setting's value, typed as its parser makes it. */
export type SettingValues = { readonly [K in keyof typeof SETTINGS]: SettingValue<(typeof SETTINGS)[K]> };
