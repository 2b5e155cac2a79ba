/**
 * The gcloud and kubectl commands that cloudbuild.yaml and infra/*.sh run,
 * with the flags each accepts, from the Cloud SDK reference (the page beside
 * each table) and kubectl's reference. Only the flags Allocator could use are
 * listed for the long commands; anything else is refused, as a typo would be.
 */
export interface CommandSpec {
  readonly reference: string;
  /** How many positional arguments it takes. */
  readonly positionals: number;
  /** Flag name to whether it takes a value. */
  readonly flags: Readonly<Record<string, boolean>>;
  readonly required?: readonly string[];
  /** Groups of which at most one flag may be given. */
  readonly exclusive?: readonly (readonly string[])[];
  /** Flag to the flag it is only valid with. */
  readonly needs?: Readonly<Record<string, string>>;
}

const REF = 'https://cloud.google.com/sdk/gcloud/reference';

/** Flags every gcloud command takes (`gcloud help`, GCLOUD WIDE FLAGS). */
export const GCLOUD_WIDE_FLAGS: Readonly<Record<string, boolean>> = {
  '--access-token-file': true,
  '--account': true,
  '--billing-project': true,
  '--configuration': true,
  '--flags-file': true,
  '--flatten': true,
  '--format': true,
  '--help': false,
  '--impersonate-service-account': true,
  '--log-http': false,
  '--project': true,
  '--quiet': false,
  '-q': false,
  '--trace-token': true,
  '--user-output-enabled': false,
  '--verbosity': true,
};

const scheduleFlags = {
  '--location': true,
  '--attempt-deadline': true,
  '--description': true,
  '--http-method': true,
  '--schedule': true,
  '--uri': true,
  '--oauth-service-account-email': true,
  '--oauth-token-scope': true,
  '--oidc-service-account-email': true,
  '--oidc-token-audience': true,
  '--max-backoff': true,
  '--max-doublings': true,
  '--max-retry-attempts': true,
  '--max-retry-duration': true,
  '--min-backoff': true,
  '--message-body': true,
  '--message-body-from-file': true,
  '--time-zone': true,
};

export const GCLOUD: Readonly<Record<string, CommandSpec>> = {
  'services enable': { reference: `${REF}/services/enable`, positionals: -1, flags: { '--async': false } },
  'projects describe': { reference: `${REF}/projects/describe`, positionals: 1, flags: {} },
  'projects add-iam-policy-binding': {
    reference: `${REF}/projects/add-iam-policy-binding`,
    positionals: 1,
    flags: { '--member': true, '--role': true, '--condition': true, '--condition-from-file': true },
    required: ['--member', '--role'],
    exclusive: [['--condition', '--condition-from-file']],
  },
  'projects remove-iam-policy-binding': {
    reference: `${REF}/projects/remove-iam-policy-binding`,
    positionals: 1,
    flags: { '--member': true, '--role': true, '--all': false, '--condition': true, '--condition-from-file': true },
    required: ['--member', '--role'],
    exclusive: [['--all', '--condition', '--condition-from-file']],
  },
  'projects get-iam-policy': {
    reference: `${REF}/projects/get-iam-policy`,
    positionals: 1,
    flags: { '--filter': true, '--limit': true, '--page-size': true, '--sort-by': true },
  },
  'iam service-accounts create': {
    reference: `${REF}/iam/service-accounts/create`,
    positionals: 1,
    flags: { '--description': true, '--display-name': true },
  },
  'iam service-accounts describe': { reference: `${REF}/iam/service-accounts/describe`, positionals: 1, flags: {} },
  'iam service-accounts add-iam-policy-binding': {
    reference: `${REF}/iam/service-accounts/add-iam-policy-binding`,
    positionals: 1,
    flags: { '--member': true, '--role': true, '--condition': true, '--condition-from-file': true },
    required: ['--member', '--role'],
    exclusive: [['--condition', '--condition-from-file']],
  },
  'iam roles create': {
    reference: `${REF}/iam/roles/create`,
    positionals: 1,
    flags: { '--organization': true, '--description': true, '--file': true, '--permissions': true, '--stage': true, '--title': true },
    exclusive: [['--organization', '--project']],
  },
  'iam roles update': {
    reference: `${REF}/iam/roles/update`,
    positionals: 1,
    flags: {
      '--organization': true,
      '--add-permissions': true,
      '--description': true,
      '--file': true,
      '--permissions': true,
      '--remove-permissions': true,
      '--stage': true,
      '--title': true,
    },
    exclusive: [['--organization', '--project']],
  },
  'iam roles describe': {
    reference: `${REF}/iam/roles/describe`,
    positionals: 1,
    flags: { '--organization': true },
    exclusive: [['--organization', '--project']],
  },
  'container clusters get-credentials': {
    reference: `${REF}/container/clusters/get-credentials`,
    positionals: 1,
    flags: { '--dns-endpoint': false, '--internal-ip': false, '--location': true, '--region': true, '--zone': true },
    exclusive: [['--location', '--region', '--zone']],
  },
  'builds get-default-service-account': {
    reference: `${REF}/builds/get-default-service-account`,
    positionals: 0,
    flags: { '--region': true },
  },
  'functions deploy': {
    reference: `${REF}/functions/deploy`,
    positionals: 1,
    flags: {
      '--region': true,
      '--allow-unauthenticated': false,
      '--no-allow-unauthenticated': false,
      '--entry-point': true,
      '--gen2': false,
      '--runtime': true,
      '--serve-all-traffic-latest-revision': false,
      '--service-account': true,
      '--source': true,
      '--timeout': true,
      '--trigger-http': false,
      '--env-vars-file': true,
      '--set-env-vars': true,
      '--build-env-vars-file': true,
      '--set-build-env-vars': true,
      '--memory': true,
      '--max-instances': true,
      '--min-instances': true,
      '--concurrency': true,
      '--cpu': true,
    },
    required: ['--region'],
    // "--cpu: ... Only valid when --memory=MEMORY is specified" (gcloud 528.0.0, gcloud functions deploy --help).
    needs: { '--cpu': '--memory' },
    exclusive: [
      ['--allow-unauthenticated', '--no-allow-unauthenticated'],
      ['--env-vars-file', '--set-env-vars'],
      ['--build-env-vars-file', '--set-build-env-vars'],
    ],
  },
  'functions add-invoker-policy-binding': {
    reference: `${REF}/functions/add-invoker-policy-binding`,
    positionals: 1,
    flags: { '--region': true, '--member': true },
    required: ['--member'],
  },
  'run services update': {
    reference: `${REF}/run/services/update`,
    positionals: 1,
    flags: { '--region': true, '--add-custom-audiences': true, '--remove-custom-audiences': true, '--clear-custom-audiences': false },
  },
  'run services update-traffic': {
    reference: `${REF}/run/services/update-traffic`,
    positionals: 1,
    flags: { '--region': true, '--async': false, '--to-latest': false, '--to-revisions': true, '--to-tags': true },
    exclusive: [['--to-latest', '--to-revisions', '--to-tags']],
  },
  'run revisions list': {
    reference: `${REF}/run/revisions/list`,
    positionals: 0,
    flags: { '--region': true, '--service': true, '--limit': true },
  },
  'compute snapshots describe': { reference: `${REF}/compute/snapshots/describe`, positionals: 1, flags: {} },
  'compute images describe': { reference: `${REF}/compute/images/describe`, positionals: 1, flags: {} },
  'compute images describe-from-family': {
    reference: `${REF}/compute/images/describe-from-family`,
    positionals: 1,
    flags: { '--zone': true },
  },
  'artifacts docker images describe': {
    reference: `${REF}/artifacts/docker/images/describe`,
    positionals: 1,
    flags: {
      '--metadata-filter': true,
      '--show-all-metadata': false,
      '--show-build-details': false,
      '--show-deployment': false,
      '--show-image-basis': false,
      '--show-package-vulnerability': false,
      '--show-provenance': false,
      '--show-sbom-references': false,
    },
  },
  'logging metrics create': {
    reference: `${REF}/logging/metrics/create`,
    positionals: 1,
    flags: { '--config-from-file': true, '--description': true, '--log-filter': true, '--bucket-name': true },
    exclusive: [
      ['--config-from-file', '--log-filter'],
      ['--config-from-file', '--description'],
    ],
  },
  'logging metrics update': {
    reference: `${REF}/logging/metrics/update`,
    positionals: 1,
    flags: { '--config-from-file': true, '--description': true, '--log-filter': true, '--bucket-name': true },
    exclusive: [
      ['--config-from-file', '--log-filter'],
      ['--config-from-file', '--description'],
    ],
  },
  'logging metrics describe': { reference: `${REF}/logging/metrics/describe`, positionals: 1, flags: {} },
  'alpha monitoring policies create': {
    reference: `${REF}/alpha/monitoring/policies/create`,
    positionals: 0,
    flags: { '--policy': true, '--policy-from-file': true, '--notification-channels': true, '--display-name': true },
    exclusive: [['--policy', '--policy-from-file']],
  },
  'alpha monitoring policies list': {
    reference: `${REF}/alpha/monitoring/policies/list`,
    positionals: 0,
    flags: { '--filter': true, '--limit': true, '--page-size': true, '--sort-by': true, '--uri': false },
  },
  'alpha monitoring policies update': {
    reference: `${REF}/alpha/monitoring/policies/update`,
    positionals: 1,
    flags: { '--policy': true, '--policy-from-file': true, '--display-name': true },
    exclusive: [['--policy', '--policy-from-file']],
  },
  'scheduler jobs describe': { reference: `${REF}/scheduler/jobs/describe`, positionals: 1, flags: { '--location': true } },
  'scheduler jobs create http': {
    reference: `${REF}/scheduler/jobs/create/http`,
    positionals: 1,
    flags: { ...scheduleFlags, '--headers': true },
    required: ['--schedule', '--uri'],
  },
  'scheduler jobs update http': {
    reference: `${REF}/scheduler/jobs/update/http`,
    positionals: 1,
    flags: {
      ...scheduleFlags,
      '--clear-auth-token': false,
      '--clear-headers': false,
      '--remove-headers': true,
      '--update-headers': true,
      '--clear-message-body': false,
      '--clear-time-zone': false,
    },
    exclusive: [
      ['--clear-headers', '--update-headers'],
      ['--clear-headers', '--remove-headers'],
    ],
  },
};

/** kubectl's reference: https://kubernetes.io/docs/reference/kubectl/generated/ (kubectl_apply, kubectl_create/kubectl_create_namespace, kubectl_get). */
export const KUBECTL: Readonly<Record<string, CommandSpec>> = {
  apply: {
    reference: 'https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/',
    positionals: 0,
    flags: { '-f': true, '--filename': true, '--dry-run': true, '-o': true, '--output': true, '--server-side': false },
    required: ['-f'],
  },
  'create namespace': {
    reference: 'https://kubernetes.io/docs/reference/kubectl/generated/kubectl_create/kubectl_create_namespace/',
    positionals: 1,
    flags: { '--dry-run': true, '-o': true, '--output': true },
  },
};
