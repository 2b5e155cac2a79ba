#!/usr/bin/env bash
# One-time setup of a Google Cloud project for Allocator: APIs, the runtime and
# scheduler service accounts with just the roles they need, the runtime
# account's namespace, RBAC and admission policy (infra/k8s/), and the roles
# Cloud Build deploys with. Prints every
# command; with --dry-run it only prints. Safe to run again: what exists is
# kept (the custom role is updated to the permissions below). The README's
# Deploy section explains each role.
#
# usage: infra/setup.sh --project P --zone Z --cluster C [--location L] [--namespace NS]
#          [--runtime-sa allocator-runtime] [--scheduler-sa allocator-scheduler]
#          [--build-sa EMAIL] [--pod-service-account default] [--dry-run]
# --zone is the disks' zone; --location the cluster's zone or region (default: --zone).
# --namespace defaults to allocator; --pod-service-account is the Kubernetes
# service account the template's pods run as, the only one the policy lets them use.
set -euo pipefail

project='' zone='' cluster='' location='' namespace=allocator dry_run=0
runtime_sa=allocator-runtime scheduler_sa=allocator-scheduler build_sa='' pod_sa=default
while [[ $# -gt 0 ]]; do
  case $1 in
    --project) project=$2; shift 2 ;;
    --zone) zone=$2; shift 2 ;;
    --cluster) cluster=$2; shift 2 ;;
    --location) location=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --runtime-sa) runtime_sa=$2; shift 2 ;;
    --scheduler-sa) scheduler_sa=$2; shift 2 ;;
    --build-sa) build_sa=$2; shift 2 ;;
    --pod-service-account) pod_sa=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for required in project zone cluster; do
  [[ -n ${!required} ]] || { echo "setup.sh: --$required is required (see --help)" >&2; exit 2; }
done
location=${location:-$zone}

run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [[ $dry_run == 1 ]] || "$@"
}

# Whether a thing exists already; in a dry run, nothing is asked and everything is shown as made.
exists() {
  [[ $dry_run == 0 ]] && "$@" >/dev/null 2>&1
}

# Creates a service account unless it exists.
ensure_account() {
  local id=$1 display=$2
  if exists gcloud iam service-accounts describe "$id@$project.iam.gserviceaccount.com" --project="$project"; then
    echo "# $id@$project.iam.gserviceaccount.com exists"
  else
    run gcloud iam service-accounts create "$id" --project="$project" --display-name="$display"
  fi
}

runtime="${runtime_sa}@${project}.iam.gserviceaccount.com"
scheduler="${scheduler_sa}@${project}.iam.gserviceaccount.com"
if [[ -z $build_sa ]]; then
  # The account the project's builds run as: the legacy Cloud Build account or, in newer projects, another default.
  if [[ $dry_run == 1 ]]; then
    build_sa=BUILD_SERVICE_ACCOUNT
  else
    build_sa=$(gcloud builds get-default-service-account --project="$project" --format='value(serviceAccountEmail)')
    build_sa=${build_sa##*/}
  fi
fi
[[ -n $build_sa ]] || { echo "setup.sh: the project has no default build account; pass --build-sa" >&2; exit 2; }

echo "# APIs"
run gcloud services enable cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com \
  cloudscheduler.googleapis.com container.googleapis.com compute.googleapis.com artifactregistry.googleapis.com \
  logging.googleapis.com monitoring.googleapis.com --project="$project"

echo "# The functions' runtime account"
ensure_account "$runtime_sa" "Allocator functions"
# container.clusters.get only: read the cluster's endpoint and CA; what it may do inside is RBAC's (below).
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$runtime" \
  --role=roles/container.clusterViewer --condition=None
# Disks: exactly what create, destroy and the sweep call, in the cluster's zone only.
disk_permissions=compute.disks.create,compute.disks.delete,compute.disks.get,compute.disks.list,compute.disks.setLabels,compute.zoneOperations.get
if exists gcloud iam roles describe allocatorDisks --project="$project"; then
  run gcloud iam roles update allocatorDisks --project="$project" --title="Allocator disks" --permissions="$disk_permissions"
else
  run gcloud iam roles create allocatorDisks --project="$project" --title="Allocator disks" --permissions="$disk_permissions"
fi
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$runtime" \
  --role="projects/$project/roles/allocatorDisks" \
  --condition="expression=resource.name.startsWith(\"projects/$project/zones/$zone\"),title=allocator-zone-$zone"

echo "# The runtime account in the cluster: its namespace (Pod Security baseline), its RBAC, and the admission policy on its Deployments (infra/k8s/)"
run gcloud container clusters get-credentials "$cluster" --location="$location" --project="$project"
manifest=$("$(dirname "$0")/k8s/manifests.sh" --namespace "$namespace" --runtime-account "$runtime" --pod-service-account "$pod_sa")
printf '%s\n' "$manifest" | sed 's/^/#   /'
echo "+ kubectl apply -f - (the manifests above)"
[[ $dry_run == 1 ]] || printf '%s\n' "$manifest" | kubectl apply -f -

echo "# The cleanup scheduler's account (also one of ALLOCATOR_ADMINS, set by cloudbuild.yaml)"
ensure_account "$scheduler_sa" "Allocator cleanup scheduler"

echo "# Cloud Build, which deploys ($build_sa), and builds the functions' sources"
for role in roles/cloudbuild.builds.builder roles/artifactregistry.reader roles/cloudfunctions.developer roles/run.admin roles/cloudscheduler.admin roles/logging.logWriter; do
  run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$build_sa" --role="$role" --condition=None
done
# actAs on these two accounts only, not on every account of the project.
for account in "$runtime" "$scheduler"; do
  run gcloud iam service-accounts add-iam-policy-binding "$account" --project="$project" \
    --member="serviceAccount:$build_sa" --role=roles/iam.serviceAccountUser
done

echo "# Metrics from the functions' request logs, and an alert on failed creates (infra/monitoring/)"
monitoring="$(dirname "$0")/monitoring"
for file in "$monitoring"/allocator_*.yaml; do
  metric=$(basename "$file" .yaml)
  if exists gcloud logging metrics describe "$metric" --project="$project"; then
    run gcloud logging metrics update "$metric" --project="$project" --config-from-file="$file"
  else
    run gcloud logging metrics create "$metric" --project="$project" --config-from-file="$file"
  fi
done
# Alerting policies are managed by gcloud's alpha commands (gcloud components install alpha).
policy=''
[[ $dry_run == 1 ]] || policy=$(gcloud alpha monitoring policies list --project="$project" \
  --filter='displayName="Allocator: failed creates"' --format='value(name)' | head -n 1)
if [[ -n $policy ]]; then
  run gcloud alpha monitoring policies update "$policy" --project="$project" --policy-from-file="$monitoring/failed-creates-policy.yaml"
else
  run gcloud alpha monitoring policies create --project="$project" --policy-from-file="$monitoring/failed-creates-policy.yaml"
fi
