import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVkubeConfig } from '../../../../shared/config/cluster-config.ts';
import { ConfigError } from '../../../../shared/config/config-error.ts';
import { loadConfig } from '../../../../shared/config/load-config.ts';
import { parseServiceConfig } from '../../../../shared/config/service-config.ts';

const base = { ALLOCATOR_SERVER_NAME: 'syncbased', ALLOCATOR_TEMPLATE: 't.json.hbs', ALLOCATOR_AUDIENCES: 'https://a.test' };

describe('parseServiceConfig', () => {
  it('fills the documented defaults', () => {
    expect(parseServiceConfig(base)).toEqual({
      serverName: 'syncbased',
      templatePath: 't.json.hbs',
      mountRoot: '',
      version: 'latest',
      internalLoadBalancers: 'refuse',
      disk: { sizeGb: 10, type: 'pd-standard' },
      diskPool: { size: 2 },
      limits: { perUser: 1, global: 10 },
      maxCollaborators: 10,
      accessListFormat: '{email}',
      admins: [],
      allowedCallers: [],
      workspaceDomains: [],
      auth: {
        audiences: ['https://a.test'],
        certsUrl: 'https://www.googleapis.com/oauth2/v1/certs',
        mode: 'verify',
        gcloudTokens: 'own-instances',
      },
      waitTimeoutMs: 240_000,
      queue: { leaseMs: 20_000, requestBoundMs: 40_000, pollMs: 1_000 },
      deleteTimeoutMs: 120_000,
      diskReleaseTimeoutMs: 300_000,
      callTimeoutMs: 30_000,
      lifetime: { defaultSeconds: 0, maxSeconds: 0 },
      restoreWindowMs: 0,
      sweep: { graceMs: 900_000, maxDestroys: 50 },
    });
  });

  it('serves the dashboard only when its client id and allocator are set, and accepts its tokens', () => {
    expect(parseServiceConfig(base)).not.toHaveProperty('dashboard');
    const config = parseServiceConfig({
      ...base,
      ALLOCATOR_DASHBOARD_CLIENT_ID: 'dash.apps.googleusercontent.com',
      ALLOCATOR_DASHBOARD_ALLOCATOR: 'https://a-{function}-xyz-uc.a.run.app',
    });
    expect(config.dashboard).toEqual({
      clientId: 'dash.apps.googleusercontent.com',
      allocator: 'https://a-{function}-xyz-uc.a.run.app',
      signInScript: 'https://accounts.google.com/gsi/client',
      origins: ['https://a-list-xyz-uc.a.run.app'],
    });
    expect(config.auth.audiences).toEqual(['https://a.test', 'dash.apps.googleusercontent.com']);
  });

  it.each([
    [{ ALLOCATOR_DASHBOARD_CLIENT_ID: 'x' }, /set both ALLOCATOR_DASHBOARD_CLIENT_ID and ALLOCATOR_DASHBOARD_ALLOCATOR/],
    [{ ALLOCATOR_DASHBOARD_CLIENT_ID: 'x', ALLOCATOR_DASHBOARD_ALLOCATOR: 'not a url' }, /ALLOCATOR_DASHBOARD_ALLOCATOR must hold URLs/],
    [
      {
        ALLOCATOR_DASHBOARD_CLIENT_ID: 'x',
        ALLOCATOR_DASHBOARD_ALLOCATOR: 'https://a.test/x',
        ALLOCATOR_DASHBOARD_ORIGINS: 'dashboard.test',
      },
      /ALLOCATOR_DASHBOARD_ORIGINS must hold URLs/,
    ],
  ])('refuses a half-set dashboard %j', (env, message) => {
    expect(() => parseServiceConfig({ ...base, ...env })).toThrow(message);
  });

  it("needs no template: only create's runtime does", () => {
    expect(parseServiceConfig({ ...base, ALLOCATOR_TEMPLATE: undefined })).not.toHaveProperty('templatePath');
  });

  it("keeps create's readiness wait apart from the deletion timeout", () => {
    const config = parseServiceConfig({ ...base, ALLOCATOR_WAIT_TIMEOUT_SECONDS: '5', ALLOCATOR_DELETE_TIMEOUT_SECONDS: '600' });
    expect([config.waitTimeoutMs, config.deleteTimeoutMs]).toEqual([5_000, 600_000]);
  });

  it("derives a queued request's wait from create's timeout, less the readiness wait and the margin", () => {
    const config = parseServiceConfig({
      ...base,
      ALLOCATOR_CREATE_TIMEOUT_SECONDS: '540',
      ALLOCATOR_WAIT_TIMEOUT_SECONDS: '120',
      ALLOCATOR_QUEUE_TICKET_SECONDS: '30',
    });
    expect(config.queue).toEqual({ leaseMs: 30_000, requestBoundMs: 400_000, pollMs: 1_000 });
  });

  it('reads lists and numbers', () => {
    const config = parseServiceConfig({
      ...base,
      ALLOCATOR_ADMINS: ' Root@Example.com , ops@example.com,',
      ALLOCATOR_AUDIENCES: 'a, b',
      ALLOCATOR_MAX_INSTANCES_PER_USER: '3',
      ALLOCATOR_AUTH_MODE: 'trust-cloud-run-iam',
    });
    expect(config.admins).toEqual(['root@example.com', 'ops@example.com']);
    expect(config.auth).toMatchObject({ audiences: ['a', 'b'], mode: 'trust-cloud-run-iam' });
    expect(config.limits.perUser).toBe(3);
  });

  it.each([
    [{ ALLOCATOR_SERVER_NAME: '' }, /ALLOCATOR_SERVER_NAME is required: set it to the prefix of instance names/],
    [{ ALLOCATOR_SERVER_NAME: 'Sync_Base' }, /ALLOCATOR_SERVER_NAME "Sync_Base" must be lowercase/],
    [{ ALLOCATOR_SERVER_NAME: 'a'.repeat(55) }, /at most 54 characters/],
    [{ ALLOCATOR_ACCESS_LIST_FORMAT: 'dev.v.io:u:' }, /ALLOCATOR_ACCESS_LIST_FORMAT must hold \{email\} once/],
    [{ ALLOCATOR_ACCESS_LIST_FORMAT: '{email}/{email}' }, /ALLOCATOR_ACCESS_LIST_FORMAT must hold \{email\} once/],
    [{ ALLOCATOR_ACCESS_LIST_FORMAT: 'dev.v.io:u:{mail}{email}' }, /no other braces/],
    [{ ALLOCATOR_DELETE_TIMEOUT_SECONDS: '0' }, /ALLOCATOR_DELETE_TIMEOUT_SECONDS must be a whole number >= 1/],
    [{ ALLOCATOR_AUDIENCES: ' , ' }, /ALLOCATOR_AUDIENCES is required: .*32555940559/],
    [{ ALLOCATOR_AUTH_MODE: 'trust' }, /ALLOCATOR_AUTH_MODE must be one of verify, trust-cloud-run-iam \(got "trust"\)/],
    [{ ALLOCATOR_MAX_INSTANCES_PER_USER: '0' }, /ALLOCATOR_MAX_INSTANCES_PER_USER must be a whole number >= 1 \(got "0"\)/],
    [{ ALLOCATOR_MAX_INSTANCES: '1.5' }, /ALLOCATOR_MAX_INSTANCES must be a whole number/],
    [{ ALLOCATOR_MAX_INSTANCES_PER_USER: '5', ALLOCATOR_MAX_INSTANCES: '2' }, /cannot exceed ALLOCATOR_MAX_INSTANCES/],
    [{ ALLOCATOR_ADMINS: 'root' }, /ALLOCATOR_ADMINS must be comma-separated emails or sub:<account id> entries \(got "root"\)/],
    [
      { ALLOCATOR_ALLOWED_CALLERS: 'example.com' },
      /ALLOCATOR_ALLOWED_CALLERS must be comma-separated emails, sub:<account id> entries or \*@domain patterns \(got "example.com"\)/,
    ],
    [{ ALLOCATOR_TOKEN_CERTS_URL: 'file:///etc/passwd' }, /ALLOCATOR_TOKEN_CERTS_URL must be an http\(s\) URL/],
    [{ ALLOCATOR_DISK_TYPE: 'SSD!' }, /ALLOCATOR_DISK_TYPE must be a disk type name/],
    [{ ALLOCATOR_DISK_POOL_SIZE: '-1' }, /ALLOCATOR_DISK_POOL_SIZE must be a whole number >= 0/],
    [{ ALLOCATOR_WAIT_TIMEOUT_SECONDS: '-1' }, /ALLOCATOR_WAIT_TIMEOUT_SECONDS must be a whole number >= 1/],
    [
      { ALLOCATOR_CREATE_TIMEOUT_SECONDS: '260' },
      /ALLOCATOR_CREATE_TIMEOUT_SECONDS must exceed ALLOCATOR_WAIT_TIMEOUT_SECONDS \(240\) by more than 20 s/,
    ],
    [{ ALLOCATOR_QUEUE_TICKET_SECONDS: '2' }, /ALLOCATOR_QUEUE_TICKET_SECONDS must be a whole number >= 3/],
    [
      { ALLOCATOR_MAX_LIFETIME_SECONDS: '3600' },
      /ALLOCATOR_DEFAULT_LIFETIME_SECONDS \(never\) must be between 1 and ALLOCATOR_MAX_LIFETIME_SECONDS \(3600\)/,
    ],
    [
      { ALLOCATOR_MAX_LIFETIME_SECONDS: '3600', ALLOCATOR_DEFAULT_LIFETIME_SECONDS: '7200' },
      /must be between 1 and ALLOCATOR_MAX_LIFETIME_SECONDS/,
    ],
  ])('refuses %j', (override, message) => {
    expect(() => parseServiceConfig({ ...base, ...override })).toThrow(ConfigError);
    expect(() => parseServiceConfig({ ...base, ...override })).toThrow(message);
  });
});

describe('parseServiceConfig: golden disks', () => {
  it('makes empty disks unless a source is set', () => {
    expect(parseServiceConfig(base).disk).toEqual({ sizeGb: 10, type: 'pd-standard' });
    expect(parseServiceConfig({ ...base, ALLOCATOR_DISK_SOURCE_SNAPSHOT: ' ', ALLOCATOR_DISK_SOURCE_IMAGE: '' }).disk).toEqual({
      sizeGb: 10,
      type: 'pd-standard',
    });
  });

  it.each([
    [{ ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'projects/p/global/snapshots/s' }, { snapshot: 'projects/p/global/snapshots/s' }],
    [{ ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'global/snapshots/syncbase-golden' }, { snapshot: 'global/snapshots/syncbase-golden' }],
    [
      { ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'https://www.googleapis.com/compute/v1/projects/my-project/global/snapshots/s-1' },
      { snapshot: 'https://www.googleapis.com/compute/v1/projects/my-project/global/snapshots/s-1' },
    ],
    [
      { ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'projects/example.com:p/global/snapshots/s' },
      { snapshot: 'projects/example.com:p/global/snapshots/s' },
    ],
    [{ ALLOCATOR_DISK_SOURCE_IMAGE: 'projects/p/global/images/i' }, { image: 'projects/p/global/images/i' }],
    [{ ALLOCATOR_DISK_SOURCE_IMAGE: 'projects/p/global/images/family/f' }, { image: 'projects/p/global/images/family/f' }],
    [{ ALLOCATOR_DISK_SOURCE_IMAGE: 'global/images/i' }, { image: 'global/images/i' }],
  ])('makes disks from %j', (override, source) => {
    // Each source names the setting it came from, for the errors about it.
    const setting = Object.keys(override)[0];
    expect(parseServiceConfig({ ...base, ...override }).disk).toEqual({ sizeGb: 10, type: 'pd-standard', source: { ...source, setting } });
  });

  it.each([
    [
      { ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'global/snapshots/s', ALLOCATOR_DISK_SOURCE_IMAGE: 'global/images/i' },
      /set at most one of ALLOCATOR_DISK_SOURCE_SNAPSHOT and ALLOCATOR_DISK_SOURCE_IMAGE/,
    ],
    [
      { ALLOCATOR_DISK_SOURCE_SNAPSHOT: 's' },
      /ALLOCATOR_DISK_SOURCE_SNAPSHOT must be a Compute Engine snapshot's URL or partial path.*\(got "s"\)/,
    ],
    [{ ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'projects/p/global/images/i' }, /ALLOCATOR_DISK_SOURCE_SNAPSHOT must be .* snapshot's/],
    [{ ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'projects/p/zones/z/snapshots/s' }, /ALLOCATOR_DISK_SOURCE_SNAPSHOT must be/],
    [{ ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'global/snapshots/Golden' }, /ALLOCATOR_DISK_SOURCE_SNAPSHOT must be/],
    [
      { ALLOCATOR_DISK_SOURCE_SNAPSHOT: 'http://evil.test/compute/v1/projects/p/global/snapshots/s' },
      /ALLOCATOR_DISK_SOURCE_SNAPSHOT must be/,
    ],
    [
      { ALLOCATOR_DISK_SOURCE_IMAGE: 'debian-12' },
      /ALLOCATOR_DISK_SOURCE_IMAGE must be a Compute Engine image's URL or partial path.*family/,
    ],
    [{ ALLOCATOR_DISK_SOURCE_IMAGE: 'projects/p/global/snapshots/s' }, /ALLOCATOR_DISK_SOURCE_IMAGE must be/],
    [{ ALLOCATOR_DISK_SOURCE_IMAGE: 'projects/p/global/images/family/' }, /ALLOCATOR_DISK_SOURCE_IMAGE must be/],
    [{ ALLOCATOR_DISK_SOURCE_IMAGE: 'projects//global/images/i' }, /ALLOCATOR_DISK_SOURCE_IMAGE must be/],
  ])('refuses %j', (override, message) => {
    expect(() => parseServiceConfig({ ...base, ...override })).toThrow(ConfigError);
    expect(() => parseServiceConfig({ ...base, ...override })).toThrow(message);
  });
});

describe('parseServiceConfig: the CLI sign-in client of allocator login', () => {
  it('has none unless ALLOCATOR_CLI_CLIENT_ID is set', () => {
    expect(parseServiceConfig(base)).not.toHaveProperty('cliSignIn');
  });

  it("publishes the client with Google's endpoints by default, and accepts its tokens", () => {
    const config = parseServiceConfig({
      ...base,
      ALLOCATOR_CLI_CLIENT_ID: 'cli.apps.googleusercontent.com',
      ALLOCATOR_CLI_CLIENT_SECRET: 's',
    });
    expect(config.cliSignIn).toEqual({
      clientId: 'cli.apps.googleusercontent.com',
      clientSecret: 's',
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      revocationEndpoint: 'https://oauth2.googleapis.com/revoke',
    });
    expect(config.auth.audiences).toEqual(['https://a.test', 'cli.apps.googleusercontent.com']);
  });

  it('takes the stand-in endpoints of a local run, and lists each audience once beside the dashboard', () => {
    const config = parseServiceConfig({
      ...base,
      ALLOCATOR_AUDIENCES: 'https://a.test,cli.test',
      ALLOCATOR_DASHBOARD_CLIENT_ID: 'dash.test',
      ALLOCATOR_DASHBOARD_ALLOCATOR: 'https://a.test/x',
      ALLOCATOR_CLI_CLIENT_ID: 'cli.test',
      ALLOCATOR_OAUTH_AUTHORIZATION_URL: 'http://127.0.0.1:9/o/oauth2/v2/auth',
      ALLOCATOR_OAUTH_TOKEN_URL: 'http://127.0.0.1:9/token',
      ALLOCATOR_OAUTH_REVOCATION_URL: 'http://127.0.0.1:9/revoke',
    });
    expect(config.cliSignIn).toEqual({
      clientId: 'cli.test',
      authorizationEndpoint: 'http://127.0.0.1:9/o/oauth2/v2/auth',
      tokenEndpoint: 'http://127.0.0.1:9/token',
      revocationEndpoint: 'http://127.0.0.1:9/revoke',
    });
    expect(config.auth.audiences).toEqual(['https://a.test', 'cli.test', 'dash.test']);
  });

  it.each([
    [{ ALLOCATOR_CLI_CLIENT_SECRET: 's' }, /ALLOCATOR_CLI_CLIENT_SECRET is set without ALLOCATOR_CLI_CLIENT_ID/],
    [{ ALLOCATOR_OAUTH_TOKEN_URL: 'http://x.test/token' }, /ALLOCATOR_OAUTH_TOKEN_URL is set without ALLOCATOR_CLI_CLIENT_ID/],
    [
      { ALLOCATOR_CLI_CLIENT_ID: 'c', ALLOCATOR_OAUTH_TOKEN_URL: 'oauth2.googleapis.com/token' },
      /ALLOCATOR_OAUTH_TOKEN_URL must be an http\(s\) URL/,
    ],
    [
      { ALLOCATOR_CLI_CLIENT_ID: 'c', ALLOCATOR_OAUTH_AUTHORIZATION_URL: 'ftp://x.test' },
      /ALLOCATOR_OAUTH_AUTHORIZATION_URL must be an http\(s\) URL/,
    ],
  ])('refuses %j', (env, message) => {
    expect(() => parseServiceConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => parseServiceConfig({ ...base, ...env })).toThrow(message);
  });
});

describe('parseVkubeConfig', () => {
  it('reads project, zone, cluster and an optional namespace', () => {
    expect(parseVkubeConfig({ project: 'p', zone: 'z', cluster: 'c' }, 'vkube.cfg')).toEqual({
      project: 'p',
      location: 'z',
      cluster: 'c',
      endpoint: 'ip',
    });
    expect(parseVkubeConfig({ project: 'p', location: 'us-central1', cluster: 'c', endpoint: 'dns' }, 'vkube.cfg')).toEqual({
      project: 'p',
      location: 'us-central1',
      cluster: 'c',
      endpoint: 'dns',
    });
    expect(parseVkubeConfig({ project: 'p', zone: 'z', cluster: 'c', namespace: 'ns' }, 'vkube.cfg')).toMatchObject({ namespace: 'ns' });
  });

  it.each([
    [null, /must hold a JSON object/],
    [[], /must hold a JSON object/],
    [{ zone: 'z', cluster: 'c' }, /vkube.cfg: "project" is missing/],
    [{ project: 'p', zone: 3, cluster: 'c' }, /"zone" is missing or not a non-empty string/],
    [{ project: 'p', zone: 'z', cluster: ' ' }, /"cluster" is missing/],
    [{ project: 'p', zone: 'z', location: 'z', cluster: 'c' }, /give "location" \(a zone or a region\) or the older "zone", not both/],
    [{ project: 'p', location: 'z', cluster: 'c', endpoint: 'private' }, /"endpoint" must be ip or dns/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseVkubeConfig(raw, 'vkube.cfg')).toThrow(message);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allocator-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'vkube.cfg'), JSON.stringify({ project: 'proj', zone: 'us-central1-c', cluster: 'tests', namespace: 'alloc' }));
  writeFileSync(
    join(dir, 'local.env'),
    'ALLOCATOR_SERVER_NAME=syncbased\nALLOCATOR_TEMPLATE=t.json.hbs\nALLOCATOR_AUDIENCES=aud\nALLOCATOR_VKUBE_CFG=vkube.cfg\nALLOCATOR_VERSION=from-file\n',
  );

  it('reads a vkube.cfg for GKE, with paths in the file relative to the file and the environment winning', () => {
    const config = loadConfig({ ALLOCATOR_CONFIG_FILE: join(dir, 'local.env'), ALLOCATOR_VERSION: 'from-env' }, '/');
    expect(config.cluster).toEqual({
      kind: 'gke',
      project: 'proj',
      location: 'us-central1-c',
      cluster: 'tests',
      namespace: 'alloc',
      endpoint: 'ip',
    });
    expect(config.compute).toEqual({ project: 'proj', zone: 'us-central1-c' });
    expect(config.templatePath).toBe(join(dir, 't.json.hbs'));
    expect(config.version).toBe('from-env');
  });

  it.each([
    [{}, /no cluster configured: set ALLOCATOR_VKUBE_CFG .* or ALLOCATOR_KUBECONFIG/],
    [{ ALLOCATOR_VKUBE_CFG: 'v', ALLOCATOR_KUBECONFIG: 'k' }, /set only one of ALLOCATOR_VKUBE_CFG/],
    [{ ALLOCATOR_KUBECONFIG: 'k' }, /ALLOCATOR_GCE_PROJECT is required/],
    [{ ALLOCATOR_VKUBE_CFG: 'missing.cfg' }, /ALLOCATOR_VKUBE_CFG: cannot read .*missing.cfg \(ENOENT\)/],
    [
      { ALLOCATOR_KUBECONFIG: 'k', ALLOCATOR_GCE_PROJECT: 'p', ALLOCATOR_GCE_ZONE: 'z', ALLOCATOR_COMPUTE_ENDPOINT: 'localhost:1' },
      /ALLOCATOR_COMPUTE_ENDPOINT must look like http:\/\/host:port/,
    ],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ ...base, ...env }, dir)).toThrow(message);
  });

  it("takes a regional cluster, with the disks' zone given apart", () => {
    writeFileSync(join(dir, 'regional.cfg'), JSON.stringify({ project: 'proj', location: 'us-central1', cluster: 'tests' }));
    expect(() => loadConfig({ ...base, ALLOCATOR_VKUBE_CFG: 'regional.cfg' }, dir)).toThrow(
      /names the region us-central1, and disks live in a zone: set ALLOCATOR_GCE_ZONE/,
    );
    const config = loadConfig({ ...base, ALLOCATOR_VKUBE_CFG: 'regional.cfg', ALLOCATOR_GCE_ZONE: 'us-central1-b' }, dir);
    expect(config.cluster).toMatchObject({ kind: 'gke', location: 'us-central1' });
    expect(config.compute).toEqual({ project: 'proj', zone: 'us-central1-b' });
  });

  it('keeps the cause of a file it cannot read or parse', () => {
    writeFileSync(join(dir, 'broken.cfg'), '{not json');
    expect(() => loadConfig({ ...base, ALLOCATOR_VKUBE_CFG: 'missing.cfg' }, dir)).toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ code: 'ENOENT' }) }),
    );
    expect(() => loadConfig({ ...base, ALLOCATOR_VKUBE_CFG: 'broken.cfg' }, dir)).toThrow(
      expect.objectContaining({ cause: expect.any(SyntaxError) }),
    );
  });
});

describe('who counts as whom', () => {
  it.each([
    ['*', /"\*" admits every Google account.*ALLOCATOR_ALLOWED_CALLERS|ALLOCATOR_ALLOWED_CALLERS: "\*" admits every Google account/],
    [
      '*@example.com,*@developer.gserviceaccount.com',
      /ALLOCATOR_ALLOWED_CALLERS: "\*@developer.gserviceaccount.com" admits service accounts of every project/,
    ],
    ['*@appspot.gserviceaccount.com', /service accounts of every project/],
    ['*@gmail.com', /ALLOCATOR_ALLOWED_CALLERS: "\*@gmail.com" admits anyone who makes a Google account there/],
  ])('refuses ALLOCATOR_ALLOWED_CALLERS=%s, saying why', (callers, message) => {
    expect(() => parseServiceConfig({ ...base, ALLOCATOR_ALLOWED_CALLERS: callers })).toThrow(message);
  });

  it('takes sub:<id> entries, and learns Workspace domains from the setting and the *@domain patterns', () => {
    const config = parseServiceConfig({
      ...base,
      ALLOCATOR_ADMINS: 'sub:1234,root@corp.test',
      ALLOCATOR_ALLOWED_CALLERS: '*@example.com,*@p.iam.gserviceaccount.com,sub:99',
      ALLOCATOR_WORKSPACE_DOMAINS: 'Corp.Test',
    });
    expect(config.admins).toEqual(['sub:1234', 'root@corp.test']);
    expect(config.workspaceDomains).toEqual(['corp.test', 'example.com']);
  });

  it('drops gcloud from the audiences with ALLOCATOR_GCLOUD_TOKENS=refuse', () => {
    const both = { ...base, ALLOCATOR_AUDIENCES: 'https://a.test,32555940559.apps.googleusercontent.com' };
    expect(parseServiceConfig(both).auth.audiences).toEqual(['https://a.test', '32555940559.apps.googleusercontent.com']);
    expect(parseServiceConfig({ ...both, ALLOCATOR_GCLOUD_TOKENS: 'refuse' }).auth.audiences).toEqual(['https://a.test']);
    expect(() => parseServiceConfig({ ...both, ALLOCATOR_GCLOUD_TOKENS: 'maybe' })).toThrow(
      /ALLOCATOR_GCLOUD_TOKENS must be one of own-instances, refuse/,
    );
    expect(() =>
      parseServiceConfig({ ...base, ALLOCATOR_AUDIENCES: '32555940559.apps.googleusercontent.com', ALLOCATOR_GCLOUD_TOKENS: 'refuse' }),
    ).toThrow(/leaves no audience/);
  });
});
