#!/usr/bin/env bash
# One-time setup of a Google Cloud project for Allocator: APIs, the runtime and
# scheduler service accounts with just the roles they need, the Kubernetes RBAC
# of the runtime account, and the roles Cloud Build deploys with. Prints every
# command; with --dry-run it only prints. The README's Deploy section explains
# each role.
#
# usage: infra/setup.sh --project P --zone Z --cluster C [--namespace NS]
#          [--runtime-sa allocator-runtime] [--scheduler-sa allocator-scheduler]
#          [--build-sa EMAIL] [--dry-run]
set -euo pipefail

project='' zone='' cluster='' namespace=default dry_run=0
runtime_sa=allocator-runtime scheduler_sa=allocator-scheduler build_sa=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --project) project=$2; shift 2 ;;
    --zone) zone=$2; shift 2 ;;
    --cluster) cluster=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --runtime-sa) runtime_sa=$2; shift 2 ;;
    --scheduler-sa) scheduler_sa=$2; shift 2 ;;
    --build-sa) build_sa=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for required in project zone cluster; do
  [[ -n ${!required} ]] || { echo "setup.sh: --$required is required (see --help)" >&2; exit 2; }
done

run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [[ $dry_run == 1 ]] || "$@"
}

runtime="${runtime_sa}@${project}.iam.gserviceaccount.com"
scheduler="${scheduler_sa}@${project}.iam.gserviceaccount.com"
if [[ -z $build_sa ]]; then
  if [[ $dry_run == 1 ]]; then number=PROJECT_NUMBER; else number=$(gcloud projects describe "$project" --format='value(projectNumber)'); fi
  build_sa="${number}@cloudbuild.gserviceaccount.com"
fi

echo "# APIs"
run gcloud services enable cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com \
  cloudscheduler.googleapis.com container.googleapis.com compute.googleapis.com artifactregistry.googleapis.com \
  --project="$project"

echo "# The functions' runtime account"
run gcloud iam service-accounts create "$runtime_sa" --project="$project" --display-name="Allocator functions"
# container.clusters.get only: read the cluster's endpoint and CA; what it may do inside is RBAC's (below).
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$runtime" \
  --role=roles/container.clusterViewer --condition=None
# Disks: exactly what create, destroy and the sweep call, in the cluster's zone only.
run gcloud iam roles create allocatorDisks --project="$project" --title="Allocator disks" \
  --permissions=compute.disks.create,compute.disks.delete,compute.disks.get,compute.disks.list,compute.disks.setLabels,compute.zoneOperations.get
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$runtime" \
  --role="projects/$project/roles/allocatorDisks" \
  --condition="expression=resource.name.startsWith(\"projects/$project/zones/$zone\"),title=allocator-zone-$zone"

echo "# The runtime account in the cluster: Deployments and Leases in one namespace"
run gcloud container clusters get-credentials "$cluster" --zone="$zone" --project="$project"
manifest=$(sed -e "s/NAMESPACE/$namespace/g" -e "s/RUNTIME_ACCOUNT/$runtime/g" "$(dirname "$0")/k8s/rbac.yaml")
printf '%s\n' "$manifest" | sed 's/^/#   /'
if [[ $dry_run == 1 ]]; then
  echo "+ kubectl apply -f - (the manifest above)"
else
  echo "+ kubectl apply -f - (the manifest above)"
  printf '%s\n' "$manifest" | kubectl apply -f -
fi

echo "# The cleanup scheduler's account (also one of ALLOCATOR_ADMINS, set by cloudbuild.yaml)"
run gcloud iam service-accounts create "$scheduler_sa" --project="$project" --display-name="Allocator cleanup scheduler"

echo "# Cloud Build, which deploys"
for role in roles/cloudfunctions.developer roles/run.admin roles/cloudscheduler.admin roles/logging.logWriter; do
  run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$build_sa" --role="$role" --condition=None
done
# actAs on these two accounts only, not on every account of the project.
for account in "$runtime" "$scheduler"; do
  run gcloud iam service-accounts add-iam-policy-binding "$account" --project="$project" \
    --member="serviceAccount:$build_sa" --role=roles/iam.serviceAccountUser
done
