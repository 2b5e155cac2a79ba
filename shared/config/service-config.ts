import { type AuthMode } from '../auth/token-verifier.ts';
import { SHARED_AUDIENCES } from '../auth/identity.ts';
import { QUEUE_MARGIN_SECONDS, queueSettings, type QueueSettings } from '../plans/queue.ts';
import type { DiskSource } from '../gce/disks.ts';
import { ConfigError } from './config-error.ts';
import { originOf, readSetting, SETTINGS, settingText, type Env, type GcloudTokens, type Setting, type SettingValues } from './settings.ts';

export {
  DISK_DEFAULTS,
  GCLOUD_TOKENS,
  GOOGLE_AUTHORIZATION_URL,
  GOOGLE_REVOCATION_URL,
  GOOGLE_SIGN_IN_SCRIPT,
  GOOGLE_TOKEN_URL,
  type Env,
  type GcloudTokens,
} from './settings.ts';

/**
 * The configuration the functions run with, made from {@link SETTINGS} (where
 * each setting's variable, default, parser and meaning are declared, once);
 * durations are in ms where the settings give seconds.
 */
export interface ServiceConfig {
  /** {@link SETTINGS}.serverName. */
  readonly serverName: SettingValues['serverName'];
  /** {@link SETTINGS}.template; only create needs it, and its runtime requires it. */
  readonly templatePath?: string;
  readonly mountRoot: SettingValues['mountRoot'];
  readonly version: SettingValues['version'];
  /** {@link SETTINGS}.diskSizeGb, diskType, and the one of diskSourceSnapshot and diskSourceImage that is set, if any. */
  readonly disk: { readonly sizeGb: number; readonly type: string; readonly source?: DiskSource };
  /** The warm pool: {@link SETTINGS}.diskPoolSize. */
  readonly diskPool: { readonly size: number };
  /** {@link SETTINGS}.maxInstancesPerUser and maxInstances. */
  readonly limits: { readonly perUser: number; readonly global: number };
  readonly maxCollaborators: SettingValues['maxCollaborators'];
  readonly accessListFormat: SettingValues['accessListFormat'];
  /** {@link SETTINGS}.internalLoadBalancers; `refuse` when absent. */
  readonly internalLoadBalancers?: SettingValues['internalLoadBalancers'];
  readonly admins: SettingValues['admins'];
  readonly allowedCallers: SettingValues['allowedCallers'];
  /** {@link SETTINGS}.workspaceDomains, plus the domain of every `*@domain` allowed-caller pattern. */
  readonly workspaceDomains: readonly string[];
  readonly auth: {
    /** {@link SETTINGS}.audiences, less gcloud's with `gcloudTokens: 'refuse'`, plus the dashboard's and the CLI's client ids. */
    readonly audiences: readonly string[];
    readonly certsUrl: SettingValues['tokenCertsUrl'];
    readonly mode: AuthMode;
    readonly gcloudTokens: GcloudTokens;
  };
  /** {@link SETTINGS}.waitTimeout. */
  readonly waitTimeoutMs: number;
  /** The queue at the limits, from {@link SETTINGS}.createTimeout, waitTimeout and queueTicket. */
  readonly queue: QueueSettings;
  /** {@link SETTINGS}.deleteTimeout. */
  readonly deleteTimeoutMs: number;
  /** {@link SETTINGS}.diskReleaseTimeout. */
  readonly diskReleaseTimeoutMs: number;
  /** {@link SETTINGS}.callTimeout. */
  readonly callTimeoutMs: number;
  /** {@link SETTINGS}.defaultLifetime and maxLifetime, in seconds; 0 means never and no maximum. */
  readonly lifetime: { readonly defaultSeconds: number; readonly maxSeconds: number };
  /** {@link SETTINGS}.restoreWindow; 0: a destroy is final. */
  readonly restoreWindowMs: number;
  /** {@link SETTINGS}.url, else the dashboard's allocator. */
  readonly url?: string;
  /** The web dashboard the list function serves at `/dashboard/`; absent unless its client id and allocator are set. */
  readonly dashboard?: DashboardConfig;
  readonly sweep: {
    /** {@link SETTINGS}.orphanGrace. */
    readonly graceMs: number;
    /** {@link SETTINGS}.sweepMaxDestroys. */
    readonly maxDestroys: number;
  };
  /** What `allocator login` signs in with; absent unless {@link SETTINGS}.cliClientId is set. See {@link CliSignInConfig}. */
  readonly cliSignIn?: CliSignInConfig;
}

export interface DashboardConfig {
  /** {@link SETTINGS}.dashboardClientId: it joins the accepted audiences. */
  readonly clientId: string;
  /** {@link SETTINGS}.dashboardAllocator. */
  readonly allocator: string;
  /** {@link SETTINGS}.dashboardSignInScript. */
  readonly signInScript: string;
  /** {@link SETTINGS}.dashboardOrigins, else the list function's origin, which the allocator value names. */
  readonly origins: readonly string[];
}

/**
 * A golden disk: the snapshot or image every instance's disk is made from, as
 * Compute Engine takes it in a disk's `sourceSnapshot` or `sourceImage`.
 */

/** The source of `disk`, if one is set: at most one of the two settings. */
function parseDiskSource(env: Env): DiskSource | undefined {
  const { diskSourceSnapshot: snapshot, diskSourceImage: image } = SETTINGS;
  if (settingText(env, snapshot) !== undefined && settingText(env, image) !== undefined)
    throw new ConfigError(`set at most one of ${snapshot.env} and ${image.env}: a disk is made from one source`);
  const fromSnapshot = readSetting(env, snapshot);
  if (fromSnapshot !== undefined) return { snapshot: fromSnapshot, setting: snapshot.env };
  const fromImage = readSetting(env, image);
  return fromImage === undefined ? undefined : { image: fromImage, setting: image.env };
}

/** The configuration, from the settings in `env`; the first bad one throws a `ConfigError` that names it and the fix. */
export function parseServiceConfig(env: Env): ServiceConfig {
  const read = <T>(setting: Setting<T>): T => readSetting(env, setting);
  const serverName = read(SETTINGS.serverName);
  const mode = read(SETTINGS.authMode);
  const audiences = read(SETTINGS.audiences);
  const certsUrl = read(SETTINGS.tokenCertsUrl);
  const admins = read(SETTINGS.admins);
  const allowedCallers = read(SETTINGS.allowedCallers);
  const workspaceDomains = [
    ...new Set([
      ...read(SETTINGS.workspaceDomains),
      ...allowedCallers
        .filter((pattern) => pattern.startsWith('*@') && !pattern.endsWith('gserviceaccount.com'))
        .map((pattern) => pattern.slice(2)),
    ]),
  ];
  const gcloudTokens = read(SETTINGS.gcloudTokens);
  const acceptedAudiences = gcloudTokens === 'refuse' ? audiences.filter((audience) => !SHARED_AUDIENCES.includes(audience)) : audiences;
  if (acceptedAudiences.length === 0)
    throw new ConfigError(
      "ALLOCATOR_GCLOUD_TOKENS=refuse leaves no audience in ALLOCATOR_AUDIENCES: add the functions' URL or custom audience",
    );
  const perUser = read(SETTINGS.maxInstancesPerUser);
  const global = read(SETTINGS.maxInstances);
  if (perUser > global)
    throw new ConfigError(`ALLOCATOR_MAX_INSTANCES_PER_USER (${perUser}) cannot exceed ALLOCATOR_MAX_INSTANCES (${global})`);
  const diskType = read(SETTINGS.diskType);
  const diskSource = parseDiskSource(env);
  const defaultLifetime = read(SETTINGS.defaultLifetime);
  const maxLifetime = read(SETTINGS.maxLifetime);
  if (maxLifetime > 0 && (defaultLifetime === 0 || defaultLifetime > maxLifetime)) {
    throw new ConfigError(
      `ALLOCATOR_DEFAULT_LIFETIME_SECONDS (${defaultLifetime || 'never'}) must be between 1 and ALLOCATOR_MAX_LIFETIME_SECONDS (${maxLifetime})`,
    );
  }
  const waitTimeoutMs = read(SETTINGS.waitTimeout);
  const queue = queueSettings({ createTimeoutMs: read(SETTINGS.createTimeout), waitTimeoutMs, leaseMs: read(SETTINGS.queueTicket) });
  if (queue.requestBoundMs < 1000) {
    throw new ConfigError(
      `ALLOCATOR_CREATE_TIMEOUT_SECONDS must exceed ALLOCATOR_WAIT_TIMEOUT_SECONDS (${waitTimeoutMs / 1000}) by more than ${QUEUE_MARGIN_SECONDS} s, so that a queued create can wait and still finish within it`,
    );
  }
  const templatePath = read(SETTINGS.template);
  const dashboard = parseDashboard(env);
  const cliSignIn = parseCliSignIn(env);
  const url = read(SETTINGS.url) ?? dashboard?.allocator;
  const accessListFormat = read(SETTINGS.accessListFormat);
  return {
    serverName,
    ...(templatePath === undefined ? {} : { templatePath }),
    mountRoot: read(SETTINGS.mountRoot),
    version: read(SETTINGS.version),
    disk: { sizeGb: read(SETTINGS.diskSizeGb), type: diskType, ...(diskSource ? { source: diskSource } : {}) },
    diskPool: { size: read(SETTINGS.diskPoolSize) },
    limits: { perUser, global },
    maxCollaborators: read(SETTINGS.maxCollaborators),
    accessListFormat,
    internalLoadBalancers: read(SETTINGS.internalLoadBalancers),
    admins,
    allowedCallers,
    workspaceDomains,
    auth: {
      audiences: [
        ...new Set([...acceptedAudiences, ...(dashboard ? [dashboard.clientId] : []), ...(cliSignIn ? [cliSignIn.clientId] : [])]),
      ],
      certsUrl,
      mode,
      gcloudTokens,
    },
    ...(dashboard ? { dashboard } : {}),
    ...(cliSignIn ? { cliSignIn } : {}),
    ...(url === undefined ? {} : { url }),
    waitTimeoutMs,
    queue,
    deleteTimeoutMs: read(SETTINGS.deleteTimeout),
    diskReleaseTimeoutMs: read(SETTINGS.diskReleaseTimeout),
    callTimeoutMs: read(SETTINGS.callTimeout),
    lifetime: { defaultSeconds: defaultLifetime, maxSeconds: maxLifetime },
    restoreWindowMs: read(SETTINGS.restoreWindow),
    sweep: { graceMs: read(SETTINGS.orphanGrace), maxDestroys: read(SETTINGS.sweepMaxDestroys) },
  };
}

function parseDashboard(env: Env): DashboardConfig | undefined {
  const { dashboardClientId, dashboardAllocator } = SETTINGS;
  if (settingText(env, dashboardClientId) === undefined && settingText(env, dashboardAllocator) === undefined) return undefined;
  const clientId = readSetting(env, dashboardClientId);
  const allocator = readSetting(env, dashboardAllocator);
  if (clientId === undefined || allocator === undefined)
    throw new ConfigError('set both ALLOCATOR_DASHBOARD_CLIENT_ID and ALLOCATOR_DASHBOARD_ALLOCATOR to serve the dashboard, or neither');
  const signInScript = readSetting(env, SETTINGS.dashboardSignInScript);
  const origins = readSetting(env, SETTINGS.dashboardOrigins).map((text) => originOf(text, SETTINGS.dashboardOrigins.env));
  // By default the page is the list function's own, which the allocator value names.
  const listOrigin = originOf(
    allocator.includes('{function}') ? allocator.replaceAll('{function}', 'list') : allocator,
    dashboardAllocator.env,
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
  /** {@link SETTINGS}.cliClientId. */
  readonly clientId: string;
  /**
   * {@link SETTINGS}.cliClientSecret. Google treats a Desktop app's secret as not
   * confidential (it ships inside every copy of the app, and PKCE is what
   * protects the code), yet its token endpoint still requires it; so it is
   * published with the client id.
   */
  readonly clientSecret?: string;
  /** {@link SETTINGS}.oauthAuthorizationUrl. */
  readonly authorizationEndpoint: string;
  /** {@link SETTINGS}.oauthTokenUrl. */
  readonly tokenEndpoint: string;
  /** {@link SETTINGS}.oauthRevocationUrl: `allocator logout` revokes the refresh token there. */
  readonly revocationEndpoint: string;
}

export function parseCliSignIn(env: Env): CliSignInConfig | undefined {
  const { cliClientId, cliClientSecret, oauthAuthorizationUrl, oauthTokenUrl, oauthRevocationUrl } = SETTINGS;
  const clientId = readSetting(env, cliClientId);
  const clientSecret = readSetting(env, cliClientSecret);
  if (clientId === undefined) {
    const stray = [cliClientSecret, oauthAuthorizationUrl, oauthTokenUrl, oauthRevocationUrl].find(
      (setting) => settingText(env, setting) !== undefined,
    );
    if (stray !== undefined)
      throw new ConfigError(`${stray.env} is set without ALLOCATOR_CLI_CLIENT_ID: set the CLI's OAuth client id too, or unset it`);
    return undefined;
  }
  return {
    clientId,
    ...(clientSecret === undefined ? {} : { clientSecret }),
    authorizationEndpoint: readSetting(env, oauthAuthorizationUrl),
    tokenEndpoint: readSetting(env, oauthTokenUrl),
    revocationEndpoint: readSetting(env, oauthRevocationUrl),
  };
}
