#!/usr/bin/env bash
# One-time setup of a Google Cloud project for Allocator: APIs, the runtime and
# scheduler service accounts with just the roles they need, the Instance
# custom resource, the runtime account's namespace, RBAC and admission policy
# (infra/k8s/), and the roles Cloud Build deploys with. Prints every
# command; with --dry-run it only prints. Safe to run again: what exists is
# kept (the custom roles are updated to the permissions below). docs/deploy.md
# explains each role.
# Run it as a project owner: it sets IAM policies, and in the cluster it makes
# cluster-wide objects (the CustomResourceDefinition, the admission policy),
# which takes cluster-admin rights: on GKE, a project owner's (roles/owner or
# roles/container.admin).
#
# usage: infra/setup.sh --project P --zone Z --cluster C [--location L] [--namespace NS]
#          [--server-name syncbased] [--runtime-sa allocator-runtime] [--scheduler-sa allocator-scheduler]
#          [--build-sa EMAIL] [--pod-service-account default] [--internal-load-balancers refuse|allow] [--dry-run]
# --zone is the disks' zone; --location the cluster's zone or region (default: --zone);
# --server-name the build's _SERVER_NAME: the runtime may change only disks named <server-name>-*.
# --namespace defaults to allocator; --pod-service-account is the Kubernetes
# service account the template's pods run as, the only one the policy lets them use;
# --internal-load-balancers, as the deploy's ALLOCATOR_INTERNAL_LOAD_BALANCERS, whether it lets a Service be one.
set -euo pipefail

project='' zone='' cluster='' location='' namespace=allocator dry_run=0
runtime_sa=allocator-runtime scheduler_sa=allocator-scheduler build_sa='' server_name=syncbased pod_sa=default internal_lbs=refuse
while [[ $# -gt 0 ]]; do
  case $1 in
    --project) project=$2; shift 2 ;;
    --zone) zone=$2; shift 2 ;;
    --cluster) cluster=$2; shift 2 ;;
    --location) location=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --server-name) server_name=$2; shift 2 ;;
    --runtime-sa) runtime_sa=$2; shift 2 ;;
    --scheduler-sa) scheduler_sa=$2; shift 2 ;;
    --build-sa) build_sa=$2; shift 2 ;;
    --pod-service-account) pod_sa=$2; shift 2 ;;
    --internal-load-balancers) internal_lbs=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for required in project zone cluster; do
  [[ -n ${!required} ]] || { echo "setup.sh: --$required is required (see --help)" >&2; exit 2; }
done
location=${location:-$zone}
# As ALLOCATOR_SERVER_NAME: it starts every disk name the condition below admits.
[[ $server_name =~ ^[a-z][a-z0-9-]{0,53}$ ]] || { echo "setup.sh: --server-name must be lowercase letters, digits and dashes, starting with a letter, at most 54 characters" >&2; exit 2; }

run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [[ $dry_run == 1 ]] || "$@"
}

# Whether a thing exists already; in a dry run, nothing is asked and everything is shown as made.
exists() {
  [[ $dry_run == 0 ]] && "$@" >/dev/null 2>&1
}

# Whether a query prints anything; in a dry run, nothing is asked and nothing is found.
exists_output() {
  [[ $dry_run == 0 ]] && [[ -n $("$@" 2>/dev/null) ]]
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

# Creates a custom role of the project, or sets an existing one's permissions to these.
ensure_role() {
  local id=$1 title=$2 permissions=$3
  if exists gcloud iam roles describe "$id" --project="$project"; then
    run gcloud iam roles update "$id" --project="$project" --title="$title" --permissions="$permissions"
  else
    run gcloud iam roles create "$id" --project="$project" --title="$title" --permissions="$permissions"
  fi
}

# Removes a project role binding that an earlier version of this script made, if the project still has it.
revoke_if_granted() {
  local member=$1 role=$2
  if exists_output gcloud projects get-iam-policy "$project" --flatten='bindings[].members' \
    --filter="bindings.role=$role AND bindings.members=$member" --format='value(bindings.role)'; then
    run gcloud projects remove-iam-policy-binding "$project" --member="$member" --role="$role" --condition=None
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
# Disks, in two parts. Compute Engine evaluates resource.name conditions for disks as
# projects/PROJECT_ID/zones/ZONE/disks/DISK, the disk being created included
# (https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name,
# https://cloud.google.com/iam/docs/configuring-resource-based-access); list and operations are not
# requests about one disk, so their part carries no name condition.
# Create, get, relabel and delete: only this allocator's disks, <server-name>-*. These are the permissions of
# disks.insert, get, setLabels and delete (https://cloud.google.com/compute/docs/reference/rest/v1/disks).
ensure_role allocatorServerDisks "Allocator instance disks" \
  compute.disks.create,compute.disks.delete,compute.disks.get,compute.disks.setLabels
# --condition with the same expression and title on every run: gcloud finds the binding and adds nothing
# (https://cloud.google.com/sdk/gcloud/reference/projects/add-iam-policy-binding).
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$runtime" \
  --role="projects/$project/roles/allocatorServerDisks" \
  --condition="expression=resource.name.startsWith(\"projects/$project/zones/$zone/disks/$server_name-\"),title=allocator-disks-$server_name"
# The sweep's disk list (disks.list) and each operation's wait (zoneOperations.get), which name no disk
# (https://cloud.google.com/compute/docs/reference/rest/v1/disks/list,
# https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations/wait). Earlier versions granted this
# role every disk permission in the zone; its binding of those, if still there, now grants these only.
# Golden disks (ALLOCATOR_DISK_SOURCE_SNAPSHOT or _IMAGE) need the source's useReadOnly permission to be
# made from it (https://cloud.google.com/compute/docs/disks/create-snapshots#restore-snapshot,
# https://cloud.google.com/compute/docs/images/managing-access-custom-images); a source in another project
# needs it granted there.
ensure_role allocatorDisks "Allocator disk listing" \
  compute.disks.list,compute.zoneOperations.get,compute.snapshots.useReadOnly,compute.images.useReadOnly
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$runtime" \
  --role="projects/$project/roles/allocatorDisks" --condition=None

echo "# The cluster: the Instance custom resource, and the runtime account's namespace (Pod Security baseline), its RBAC and the admission policy on its Deployments (infra/k8s/)"
run gcloud container clusters get-credentials "$cluster" --location="$location" --project="$project"
manifest=$("$(dirname "$0")/k8s/manifests.sh" --namespace "$namespace" --runtime-account "$runtime" --pod-service-account "$pod_sa" --internal-load-balancers "$internal_lbs")
printf '%s\n' "$manifest" | sed 's/^/#   /'
echo "+ kubectl apply -f - (the manifests above)"
[[ $dry_run == 1 ]] || printf '%s\n' "$manifest" | kubectl apply -f -

echo "# The cleanup scheduler's account (also one of ALLOCATOR_ADMINS, set by cloudbuild.yaml)"
ensure_account "$scheduler_sa" "Allocator cleanup scheduler"

echo "# Cloud Build, which deploys ($build_sa), and builds the functions' sources"
build="serviceAccount:$build_sa"
# Build the functions' sources (Cloud Run functions build with the default build account, which new projects
# may not grant it) and write the build's logs: what the legacy build account had by default
# (https://cloud.google.com/build/docs/cloud-build-service-account, https://cloud.google.com/iam/docs/roles-permissions/cloudbuild).
for role in roles/cloudbuild.builds.builder roles/logging.logWriter; do
  run gcloud projects add-iam-policy-binding "$project" --member="$build" --role="$role" --condition=None
done
# The deploy steps, and nothing about IAM policies: the build never sets who may invoke the functions
# (infra/grant-invokers.sh does, once, as the project's owner). Cloud Functions and Cloud Run take no
# resource-name conditions (https://cloud.google.com/iam/docs/conditions-attribute-reference#resource-name),
# and a function does not exist before its first deploy, so these apply to the project.
# gcloud functions deploy (gen2): get, create or update the function, upload its source, wait for the
# operation, and check the runtime (https://cloud.google.com/functions/docs/reference/iam/permissions,
# https://cloud.google.com/functions/docs/reference/iam/roles: Cloud Functions Developer's deploy permissions).
# gcloud run services update --add-custom-audiences: get and replace the service
# (https://cloud.google.com/run/docs/reference/iam/roles, https://cloud.google.com/run/docs/configuring/custom-audiences).
# gcloud scheduler jobs describe, create http, update http
# (https://cloud.google.com/iam/docs/roles-permissions/cloudscheduler: cloudscheduler.jobs.get/create/update).
deploy_permissions=cloudfunctions.functions.create,cloudfunctions.functions.get,cloudfunctions.functions.update,cloudfunctions.functions.sourceCodeSet,cloudfunctions.operations.get,cloudfunctions.runtimes.list
deploy_permissions+=,run.services.get,run.services.update
deploy_permissions+=,cloudscheduler.jobs.create,cloudscheduler.jobs.get,cloudscheduler.jobs.update
ensure_role allocatorDeploy "Allocator deploy" "$deploy_permissions"
run gcloud projects add-iam-policy-binding "$project" --member="$build" \
  --role="projects/$project/roles/allocatorDeploy" --condition=None
# The image-check step's gcloud artifacts docker images describe: "roles/artifactregistry.reader,
# roles/containeranalysis.admin and roles/serviceusage.serviceUsageViewer"
# (https://cloud.google.com/sdk/gcloud/reference/artifacts/docker/images/describe). Of those, it calls
# repositories.get, tags.get or versions.get, services.get (whether Container Analysis is on) and
# occurrences.list (read only; admin's writes are never used), in the image's project: images in another
# project need this role's permissions there too.
image_permissions=artifactregistry.repositories.get,artifactregistry.tags.get,artifactregistry.versions.get
image_permissions+=,serviceusage.services.get,containeranalysis.occurrences.list
# The disk-source-check step's gcloud compute snapshots describe, images describe and images
# describe-from-family (https://cloud.google.com/compute/docs/reference/rest/v1/snapshots/get,
# https://cloud.google.com/compute/docs/reference/rest/v1/images/get, .../images/getFromFamily).
image_permissions+=,compute.snapshots.get,compute.images.get,compute.images.getFromFamily
ensure_role allocatorImageCheck "Allocator image check" "$image_permissions"
run gcloud projects add-iam-policy-binding "$project" --member="$build" \
  --role="projects/$project/roles/allocatorImageCheck" --condition=None
# Project-wide roles earlier versions granted in place of the two custom roles above; roles/run.admin
# could set the IAM policy of every Cloud Run service.
for role in roles/artifactregistry.reader roles/cloudfunctions.developer roles/run.admin roles/cloudscheduler.admin; do
  revoke_if_granted "$build" "$role"
done
# actAs on these two accounts only, not on every account of the project: deploying a function that runs as
# the runtime account (https://cloud.google.com/functions/docs/reference/iam/roles#additional-configuration),
# and a job whose OIDC token is the scheduler account's (https://cloud.google.com/scheduler/docs/http-target-auth).
for account in "$runtime" "$scheduler"; do
  run gcloud iam service-accounts add-iam-policy-binding "$account" --project="$project" \
    --member="$build" --role=roles/iam.serviceAccountUser
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
