import { AUTH_MODES, GOOGLE_CERTS_URL, type AuthMode } from '../auth/token-verifier.ts';
import { admitsTheWorld, isAccountEntry, isCallerPattern } from '../auth/allowed-callers.ts';
import { SHARED_AUDIENCES } from '../auth/identity.ts';
import { isValidServerName } from '../instances/naming.ts';
import { QUEUE_MARGIN_SECONDS, queueSettings, type QueueSettings } from '../plans/queue.ts';
import { ConfigError } from './config-error.ts';

/** Settings, read from `ALLOCATOR_*` environment variables (or the same keys in `ALLOCATOR_CONFIG_FILE`). */
export interface ServiceConfig {
  /** Prefix of instance names, the seed's --server-name. `ALLOCATOR_SERVER_NAME`, required. */
  readonly serverName: string;
  /** Deployment template path. `ALLOCATOR_TEMPLATE`; only create needs it, and its runtime requires it. */
  readonly templatePath?: string;
  /** Instances publish themselves at `<mountRoot>/<name>`. `ALLOCATOR_MOUNT_ROOT`, default empty. */
  readonly mountRoot: string;
  /** `ALLOCATOR_VERSION`, default `latest`. */
  readonly version: string;
  /**
   * `ALLOCATOR_DISK_SIZE_GB` (default 10) and `ALLOCATOR_DISK_TYPE` (default `pd-standard`); `source`, what every
   * instance's disk is made from: `ALLOCATOR_DISK_SOURCE_SNAPSHOT` or `ALLOCATOR_DISK_SOURCE_IMAGE`, default none (an empty disk).
   */
  readonly disk: { readonly sizeGb: number; readonly type: string; readonly source?: DiskSource };
  /**
   * The warm pool: how many free disks, made like every instance's, are kept ready for creates to
   * claim. `ALLOCATOR_DISK_POOL_SIZE`, default 2; 0 turns the pool off.
   */
  readonly diskPool: { readonly size: number };
  /** `ALLOCATOR_MAX_INSTANCES_PER_USER` (default 1) and `ALLOCATOR_MAX_INSTANCES` (default 10). */
  readonly limits: { readonly perUser: number; readonly global: number };
  /** How many people one instance may be shared with. `ALLOCATOR_MAX_COLLABORATORS`, default 10. */
  readonly maxCollaborators: number;
  /**
   * How each access-list entry is written from an email, owner and admins
   * alike: `{email}` is replaced by the email. allocatord used blessing
   * patterns (`dev.v.io:u:{email}`). `ALLOCATOR_ACCESS_LIST_FORMAT`, default `{email}`.
   */
  readonly accessListFormat: string;
  /**
   * Accounts that may list and destroy every instance, with a token bound to
   * this allocator: emails (on every access list) or `sub:<account id>`.
   * `ALLOCATOR_ADMINS`, comma-separated.
   */
  readonly admins: readonly string[];
  /**
   * Who may call at all: emails, `sub:<account id>` or `*@domain`.
   * `ALLOCATOR_ALLOWED_CALLERS`, comma-separated; empty allows any verified
   * caller (for Cloud Run's IAM check to restrict). Patterns that admit the
   * world (`*`, `*@gmail.com`, every project's service accounts) are refused.
   */
  readonly allowedCallers: readonly string[];
  /**
   * Google Workspace domains: an email there names an account only when the
   * token's `hd` is the domain. `ALLOCATOR_WORKSPACE_DOMAINS`, comma-separated,
   * plus the domain of every `*@domain` allowed-caller pattern.
   */
  readonly workspaceDomains: readonly string[];
  readonly auth: {
    /** `ALLOCATOR_AUDIENCES`, comma-separated, required. */
    readonly audiences: readonly string[];
    /** `ALLOCATOR_TOKEN_CERTS_URL`, default Google's. */
    readonly certsUrl: string;
    /** `ALLOCATOR_AUTH_MODE`: `verify` (default) or `trust-cloud-run-iam`. */
    readonly mode: AuthMode;
    /**
     * What a token minted for gcloud may do: `own-instances` (default: its
     * holder's own instances, never an admin's powers) or `refuse` (gcloud's
     * client id is dropped from the audiences). `ALLOCATOR_GCLOUD_TOKENS`.
     */
    readonly gcloudTokens: GcloudTokens;
  };
  /** How long create waits for the Deployment to be available. `ALLOCATOR_WAIT_TIMEOUT_SECONDS`, default 240. */
  readonly waitTimeoutMs: number;
  /**
   * The queue at the limits. Each request of a queued create waits at most
   * the create function's timeout (`ALLOCATOR_CREATE_TIMEOUT_SECONDS`,
   * default 300, as deployed) less the readiness wait and a margin; a ticket
   * lives `ALLOCATOR_QUEUE_TICKET_SECONDS` (default 20) without a renewal.
   */
  readonly queue: QueueSettings;
  /** How long destroy, the sweep and a failed create wait for a deleted Deployment to go. `ALLOCATOR_DELETE_TIMEOUT_SECONDS`, default 120. */
  readonly deleteTimeoutMs: number;
  /** How long destroy retries deleting a disk that is still attached. `ALLOCATOR_DISK_RELEASE_TIMEOUT_SECONDS`, default 300. */
  readonly diskReleaseTimeoutMs: number;
  /** Timeout of each Kubernetes or Compute Engine call. `ALLOCATOR_CALL_TIMEOUT_SECONDS`, default 30. */
  readonly callTimeoutMs: number;
  readonly lifetime: {
    /** Lifetime of an instance whose create asks for none, in seconds; 0 means never expires. `ALLOCATOR_DEFAULT_LIFETIME_SECONDS`, default 0. */
    readonly defaultSeconds: number;
    /** The longest lifetime a create or an extension may ask for; 0 means no maximum. `ALLOCATOR_MAX_LIFETIME_SECONDS`, default 0. */
    readonly maxSeconds: number;
  };
  /**
   * How long a destroyed instance's disk is kept, and the instance can be
   * restored, in ms; 0: a destroy is final, as allocatord's was.
   * `ALLOCATOR_RESTORE_WINDOW_SECONDS`, default 0.
   */
  readonly restoreWindowMs: number;
  /** The allocator value callers use (the CLI's `--allocator`), which `/openapi.json` names as its server. `ALLOCATOR_URL`, default the dashboard's. */
  readonly url?: string;
  /** The web dashboard the list function serves at `/dashboard/`; absent unless its client id and allocator are set. */
  readonly dashboard?: DashboardConfig;
  readonly sweep: {
    /** The sweep leaves anything younger than this alone, so that a create in flight is never touched. `ALLOCATOR_ORPHAN_GRACE_SECONDS`, default 900. */
    readonly graceMs: number;
    /** The most instances one sweep destroys; the rest wait for the next. `ALLOCATOR_SWEEP_MAX_DESTROYS`, default 50. */
    readonly maxDestroys: number;
  };
  /** What `allocator login` signs in with; absent unless `ALLOCATOR_CLI_CLIENT_ID` is set. See {@link CliSignInConfig}. */
  readonly cliSignIn?: CliSignInConfig;
}

export interface DashboardConfig {
  /** The OAuth client id its "Sign in with Google" button signs in for; it joins the accepted audiences. `ALLOCATOR_DASHBOARD_CLIENT_ID`. */
  readonly clientId: string;
  /** The allocator value the page calls, as the CLI's `--allocator`. `ALLOCATOR_DASHBOARD_ALLOCATOR`. */
  readonly allocator: string;
  /** Google Identity Services' client script; the local token issuer serves a stand-in. `ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT`, default Google's. */
  readonly signInScript: string;
  /** Origins whose pages may call the functions (CORS): the dashboard's own. `ALLOCATOR_DASHBOARD_ORIGINS`, comma-separated, default the allocator value's origin. */
  readonly origins: readonly string[];
}

export const GOOGLE_SIGN_IN_SCRIPT = 'https://accounts.google.com/gsi/client';

/** The defaults of the disk settings: the bench's cost of a warm pool is figured from them. */
export const DISK_DEFAULTS = { sizeGb: 10, poolSize: 2 } as const;

/** What a token minted for gcloud may do here. */
export const GCLOUD_TOKENS = ['own-instances', 'refuse'] as const;
export type GcloudTokens = (typeof GCLOUD_TOKENS)[number];

/**
 * A golden disk: the snapshot or image every instance's disk is made from, as
 * Compute Engine takes it in a disk's `sourceSnapshot` or `sourceImage`.
 */
export type DiskSource = { readonly snapshot: string } | { readonly image: string };

/** The setting behind each kind of disk source, named by the errors a missing or refused source gives. */
export const DISK_SOURCE_SETTINGS = {
  snapshot: 'ALLOCATOR_DISK_SOURCE_SNAPSHOT',
  image: 'ALLOCATOR_DISK_SOURCE_IMAGE',
} as const;

const PROJECT_PATH = String.raw`(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?(?:projects/[a-z0-9](?:[-a-z0-9.:]*[a-z0-9])?/)?global/`;
const RESOURCE_NAME = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';
const DISK_SOURCE_SHAPES = {
  snapshot: {
    pattern: new RegExp(`^${PROJECT_PATH}snapshots/${RESOURCE_NAME}$`),
    example: 'projects/my-project/global/snapshots/my-snapshot or global/snapshots/my-snapshot',
  },
  image: {
    pattern: new RegExp(`^${PROJECT_PATH}images/(?:family/)?${RESOURCE_NAME}$`),
    example: 'projects/my-project/global/images/my-image, projects/my-project/global/images/family/my-family or global/images/my-image',
  },
} as const;

/** The source of `disk`, if one is set: at most one of the two settings, each a Compute Engine resource URL or partial path. */
function parseDiskSource(env: Env): DiskSource | undefined {
  const set = (['snapshot', 'image'] as const).flatMap((kind) => {
    const value = read(env, DISK_SOURCE_SETTINGS[kind]);
    return value === undefined ? [] : [{ kind, value }];
  });
  if (set.length > 1)
    throw new ConfigError(
      `set at most one of ${DISK_SOURCE_SETTINGS.snapshot} and ${DISK_SOURCE_SETTINGS.image}: a disk is made from one source`,
    );
  const [source] = set;
  if (source === undefined) return undefined;
  const shape = DISK_SOURCE_SHAPES[source.kind];
  if (!shape.pattern.test(source.value))
    throw new ConfigError(
      `${DISK_SOURCE_SETTINGS[source.kind]} must be a Compute Engine ${source.kind}'s URL or partial path, such as ${shape.example} (got "${source.value}")`,
    );
  return source.kind === 'snapshot' ? { snapshot: source.value } : { image: source.value };
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads one setting, trimming it; empty counts as unset. */
function read(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function required(env: Env, key: string, what: string): string {
  const value = read(env, key);
  if (value === undefined) throw new ConfigError(`${key} is required: set it to ${what}`);
  return value;
}

function wholeNumber(env: Env, key: string, fallback: number, min: number): number {
  const text = read(env, key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min)
    throw new ConfigError(`${key} must be a whole number >= ${min} (got "${text}")`);
  return value;
}

function list(env: Env, key: string): string[] {
  return (read(env, key) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function parseServiceConfig(env: Env): ServiceConfig {
  const serverName = required(env, 'ALLOCATOR_SERVER_NAME', 'the prefix of instance names, e.g. syncbased');
  if (!isValidServerName(serverName)) {
    throw new ConfigError(
      `ALLOCATOR_SERVER_NAME "${serverName}" must be lowercase letters, digits and dashes, start with a letter and be at most 54 characters`,
    );
  }
  const mode = read(env, 'ALLOCATOR_AUTH_MODE') ?? 'verify';
  if (!(AUTH_MODES as readonly string[]).includes(mode))
    throw new ConfigError(`ALLOCATOR_AUTH_MODE must be one of ${AUTH_MODES.join(', ')} (got "${mode}")`);
  const audiences = list(env, 'ALLOCATOR_AUDIENCES');
  if (audiences.length === 0) {
    throw new ConfigError(
      "ALLOCATOR_AUDIENCES is required: set it to the audiences tokens may carry, comma-separated (the functions' URL or custom audience; add 32555940559.apps.googleusercontent.com to accept `gcloud auth print-identity-token` from people)",
    );
  }
  const certsUrl = read(env, 'ALLOCATOR_TOKEN_CERTS_URL') ?? GOOGLE_CERTS_URL;
  if (!/^https?:\/\//.test(certsUrl)) throw new ConfigError(`ALLOCATOR_TOKEN_CERTS_URL must be an http(s) URL (got "${certsUrl}")`);
  const admins = list(env, 'ALLOCATOR_ADMINS').map((email) => email.toLowerCase());
  const badAdmin = admins.find((entry) => !isAccountEntry(entry));
  if (badAdmin !== undefined)
    throw new ConfigError(`ALLOCATOR_ADMINS must be comma-separated emails or sub:<account id> entries (got "${badAdmin}")`);
  const allowedCallers = list(env, 'ALLOCATOR_ALLOWED_CALLERS').map((pattern) => pattern.toLowerCase());
  const badPattern = allowedCallers.find((pattern) => !isCallerPattern(pattern) && admitsTheWorld(pattern) === undefined);
  if (badPattern !== undefined)
    throw new ConfigError(
      `ALLOCATOR_ALLOWED_CALLERS must be comma-separated emails, sub:<account id> entries or *@domain patterns (got "${badPattern}")`,
    );
  for (const pattern of allowedCallers) {
    const why = admitsTheWorld(pattern);
    if (why) throw new ConfigError(`ALLOCATOR_ALLOWED_CALLERS: ${why}. Every caller there could then create instances.`);
  }
  const workspaceDomains = [
    ...new Set([
      ...list(env, 'ALLOCATOR_WORKSPACE_DOMAINS').map((domain) => domain.toLowerCase()),
      ...allowedCallers
        .filter((pattern) => pattern.startsWith('*@') && !pattern.endsWith('gserviceaccount.com'))
        .map((pattern) => pattern.slice(2)),
    ]),
  ];
  const gcloudTokens = read(env, 'ALLOCATOR_GCLOUD_TOKENS') ?? 'own-instances';
  if (!(GCLOUD_TOKENS as readonly string[]).includes(gcloudTokens))
    throw new ConfigError(`ALLOCATOR_GCLOUD_TOKENS must be one of ${GCLOUD_TOKENS.join(', ')} (got "${gcloudTokens}")`);
  const acceptedAudiences = gcloudTokens === 'refuse' ? audiences.filter((audience) => !SHARED_AUDIENCES.includes(audience)) : audiences;
  if (acceptedAudiences.length === 0)
    throw new ConfigError(
      "ALLOCATOR_GCLOUD_TOKENS=refuse leaves no audience in ALLOCATOR_AUDIENCES: add the functions' URL or custom audience",
    );
  const perUser = wholeNumber(env, 'ALLOCATOR_MAX_INSTANCES_PER_USER', 1, 1);
  const global = wholeNumber(env, 'ALLOCATOR_MAX_INSTANCES', 10, 1);
  if (perUser > global)
    throw new ConfigError(`ALLOCATOR_MAX_INSTANCES_PER_USER (${perUser}) cannot exceed ALLOCATOR_MAX_INSTANCES (${global})`);
  const diskType = read(env, 'ALLOCATOR_DISK_TYPE') ?? 'pd-standard';
  if (!/^[a-z][-a-z0-9]*$/.test(diskType))
    throw new ConfigError(`ALLOCATOR_DISK_TYPE must be a disk type name such as pd-standard or pd-ssd (got "${diskType}")`);
  const diskSource = parseDiskSource(env);
  const defaultLifetime = wholeNumber(env, 'ALLOCATOR_DEFAULT_LIFETIME_SECONDS', 0, 0);
  const maxLifetime = wholeNumber(env, 'ALLOCATOR_MAX_LIFETIME_SECONDS', 0, 0);
  if (maxLifetime > 0 && (defaultLifetime === 0 || defaultLifetime > maxLifetime)) {
    throw new ConfigError(
      `ALLOCATOR_DEFAULT_LIFETIME_SECONDS (${defaultLifetime || 'never'}) must be between 1 and ALLOCATOR_MAX_LIFETIME_SECONDS (${maxLifetime})`,
    );
  }
  const waitTimeoutMs = wholeNumber(env, 'ALLOCATOR_WAIT_TIMEOUT_SECONDS', 240, 1) * 1000;
  const queue = queueSettings({
    createTimeoutMs: wholeNumber(env, 'ALLOCATOR_CREATE_TIMEOUT_SECONDS', 300, 1) * 1000,
    waitTimeoutMs,
    ticketMs: wholeNumber(env, 'ALLOCATOR_QUEUE_TICKET_SECONDS', 20, 3) * 1000,
  });
  if (queue.requestBoundMs < 1000) {
    throw new ConfigError(
      `ALLOCATOR_CREATE_TIMEOUT_SECONDS must exceed ALLOCATOR_WAIT_TIMEOUT_SECONDS (${waitTimeoutMs / 1000}) by more than ${QUEUE_MARGIN_SECONDS} s, so that a queued create can wait and still finish within it`,
    );
  }
  const templatePath = read(env, 'ALLOCATOR_TEMPLATE');
  const dashboard = parseDashboard(env);
  const cliSignIn = parseCliSignIn(env);
  const url = read(env, 'ALLOCATOR_URL') ?? dashboard?.allocator;
  if (url !== undefined && !URL.canParse(url.replace('{function}', 'function')))
    throw new ConfigError(`ALLOCATOR_URL must be the allocator's URL, as the CLI's --allocator (got "${url}")`);
  const accessListFormat = read(env, 'ALLOCATOR_ACCESS_LIST_FORMAT') ?? '{email}';
  if (accessListFormat.split('{email}').length !== 2 || /[{}]/.test(accessListFormat.replace('{email}', ''))) {
    throw new ConfigError(
      `ALLOCATOR_ACCESS_LIST_FORMAT must hold {email} once and no other braces, e.g. dev.v.io:u:{email} (got "${accessListFormat}")`,
    );
  }
  return {
    serverName,
    ...(templatePath === undefined ? {} : { templatePath }),
    mountRoot: read(env, 'ALLOCATOR_MOUNT_ROOT') ?? '',
    version: read(env, 'ALLOCATOR_VERSION') ?? 'latest',
    disk: {
      sizeGb: wholeNumber(env, 'ALLOCATOR_DISK_SIZE_GB', DISK_DEFAULTS.sizeGb, 1),
      type: diskType,
      ...(diskSource ? { source: diskSource } : {}),
    },
    diskPool: { size: wholeNumber(env, 'ALLOCATOR_DISK_POOL_SIZE', DISK_DEFAULTS.poolSize, 0) },
    limits: { perUser, global },
    maxCollaborators: wholeNumber(env, 'ALLOCATOR_MAX_COLLABORATORS', 10, 0),
    accessListFormat,
    admins,
    allowedCallers,
    workspaceDomains,
    auth: {
      audiences: [
        ...new Set([...acceptedAudiences, ...(dashboard ? [dashboard.clientId] : []), ...(cliSignIn ? [cliSignIn.clientId] : [])]),
      ],
      certsUrl,
      mode: mode as AuthMode,
      gcloudTokens: gcloudTokens as GcloudTokens,
    },
    ...(dashboard ? { dashboard } : {}),
    ...(cliSignIn ? { cliSignIn } : {}),
    ...(url === undefined ? {} : { url }),
    waitTimeoutMs,
    queue,
    deleteTimeoutMs: wholeNumber(env, 'ALLOCATOR_DELETE_TIMEOUT_SECONDS', 120, 1) * 1000,
    diskReleaseTimeoutMs: wholeNumber(env, 'ALLOCATOR_DISK_RELEASE_TIMEOUT_SECONDS', 300, 0) * 1000,
    callTimeoutMs: wholeNumber(env, 'ALLOCATOR_CALL_TIMEOUT_SECONDS', 30, 1) * 1000,
    lifetime: { defaultSeconds: defaultLifetime, maxSeconds: maxLifetime },
    restoreWindowMs: wholeNumber(env, 'ALLOCATOR_RESTORE_WINDOW_SECONDS', 0, 0) * 1000,
    sweep: {
      graceMs: wholeNumber(env, 'ALLOCATOR_ORPHAN_GRACE_SECONDS', 900, 0) * 1000,
      maxDestroys: wholeNumber(env, 'ALLOCATOR_SWEEP_MAX_DESTROYS', 50, 1),
    },
  };
}

function parseDashboard(env: Env): DashboardConfig | undefined {
  const clientId = read(env, 'ALLOCATOR_DASHBOARD_CLIENT_ID');
  const allocator = read(env, 'ALLOCATOR_DASHBOARD_ALLOCATOR');
  if (clientId === undefined && allocator === undefined) return undefined;
  if (clientId === undefined || allocator === undefined)
    throw new ConfigError('set both ALLOCATOR_DASHBOARD_CLIENT_ID and ALLOCATOR_DASHBOARD_ALLOCATOR to serve the dashboard, or neither');
  const origin = (text: string, key: string): string => {
    try {
      return new URL(text.replace('{function}', 'function')).origin;
    } catch (error) {
      throw new ConfigError(`${key} must hold URLs (got "${text}")`, { cause: error });
    }
  };
  const signInScript = read(env, 'ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT') ?? GOOGLE_SIGN_IN_SCRIPT;
  origin(signInScript, 'ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT');
  const origins = list(env, 'ALLOCATOR_DASHBOARD_ORIGINS').map((text) => origin(text, 'ALLOCATOR_DASHBOARD_ORIGINS'));
  // By default the page is the list function's own, which the allocator value names.
  const listOrigin = origin(
    allocator.includes('{function}') ? allocator.replaceAll('{function}', 'list') : allocator,
    'ALLOCATOR_DASHBOARD_ALLOCATOR',
  );
  return { clientId, allocator, signInScript, origins: origins.length > 0 ? origins : [listOrigin] };
}

// ---- `allocator login`: the CLI's own OAuth client (kept apart from the settings above) ----

/**
 * The OAuth client of type "Desktop app" that `allocator login` signs people
 * in with, published at the list function's `/openapi.json` so that the CLI
 * needs only the allocator's URL. Its client id joins the accepted audiences:
 * the ID tokens the CLI mints carry it, so they are good for this allocator
 * and nothing else (unlike gcloud's, which any service accepting gcloud's
 * client id would take).
 */
export interface CliSignInConfig {
  /** `ALLOCATOR_CLI_CLIENT_ID`. */
  readonly clientId: string;
  /**
   * `ALLOCATOR_CLI_CLIENT_SECRET`. Google treats a Desktop app's secret as not
   * confidential (it ships inside every copy of the app, and PKCE is what
   * protects the code), yet its token endpoint still requires it; so it is
   * published with the client id.
   */
  readonly clientSecret?: string;
  /** `ALLOCATOR_OAUTH_AUTHORIZATION_URL`, default Google's; the local token issuer serves a stand-in. */
  readonly authorizationEndpoint: string;
  /** `ALLOCATOR_OAUTH_TOKEN_URL`, default Google's. */
  readonly tokenEndpoint: string;
  /** `ALLOCATOR_OAUTH_REVOCATION_URL`, default Google's; `allocator logout` revokes the refresh token there. */
  readonly revocationEndpoint: string;
}

export const GOOGLE_AUTHORIZATION_URL = 'https://accounts.google.com/o/oauth2/v2/auth';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GOOGLE_REVOCATION_URL = 'https://oauth2.googleapis.com/revoke';

const CLI_ENDPOINTS = [
  ['ALLOCATOR_OAUTH_AUTHORIZATION_URL', 'authorizationEndpoint', GOOGLE_AUTHORIZATION_URL],
  ['ALLOCATOR_OAUTH_TOKEN_URL', 'tokenEndpoint', GOOGLE_TOKEN_URL],
  ['ALLOCATOR_OAUTH_REVOCATION_URL', 'revocationEndpoint', GOOGLE_REVOCATION_URL],
] as const;

export function parseCliSignIn(env: Env): CliSignInConfig | undefined {
  const clientId = read(env, 'ALLOCATOR_CLI_CLIENT_ID');
  const clientSecret = read(env, 'ALLOCATOR_CLI_CLIENT_SECRET');
  if (clientId === undefined) {
    const stray = ['ALLOCATOR_CLI_CLIENT_SECRET', ...CLI_ENDPOINTS.map(([key]) => key)].find((key) => read(env, key) !== undefined);
    if (stray !== undefined)
      throw new ConfigError(`${stray} is set without ALLOCATOR_CLI_CLIENT_ID: set the CLI's OAuth client id too, or unset it`);
    return undefined;
  }
  const endpoints = Object.fromEntries(
    CLI_ENDPOINTS.map(([key, field, fallback]) => {
      const url = read(env, key) ?? fallback;
      if (!/^https?:\/\//.test(url) || !URL.canParse(url)) throw new ConfigError(`${key} must be an http(s) URL (got "${url}")`);
      return [field, url];
    }),
  ) as Pick<CliSignInConfig, 'authorizationEndpoint' | 'tokenEndpoint' | 'revocationEndpoint'>;
  return { clientId, ...(clientSecret === undefined ? {} : { clientSecret }), ...endpoints };
}
