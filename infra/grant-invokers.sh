#!/usr/bin/env bash
# Who may invoke the deployed functions, set once after the first deploy by the
# project's owner: the build deploys without touching the functions' IAM policies
# (it has no setIamPolicy), so a new function starts closed. Prints every command;
# with --dry-run it only prints.
#   `iam` auth shape (Cloud Run's IAM check on, ALLOCATOR_AUTH_MODE=trust-cloud-run-iam):
#     --users-group GROUP_EMAIL: the group on the three, the scheduler on destroy.
#   `verify` auth shape (the functions verify tokens themselves): --public, which
#     lets anyone reach them (run.invoker for allUsers), as --allow-unauthenticated would.
#
# usage: infra/grant-invokers.sh --project P --region R (--users-group GROUP_EMAIL | --public)
#          [--allocator syncbase-allocator] [--scheduler-sa allocator-scheduler] [--dry-run]
set -euo pipefail

project='' region='' group='' public=0 allocator=syncbase-allocator scheduler_sa=allocator-scheduler dry_run=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --project) project=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    --users-group) group=$2; shift 2 ;;
    --public) public=1; shift ;;
    --allocator) allocator=$2; shift 2 ;;
    --scheduler-sa) scheduler_sa=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "grant-invokers.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for required in project region; do
  [[ -n ${!required} ]] || { echo "grant-invokers.sh: --$required is required (see --help)" >&2; exit 2; }
done
[[ -n $group || $public == 1 ]] || { echo "grant-invokers.sh: --users-group or --public is required (see --help)" >&2; exit 2; }
[[ -z $group || $public == 0 ]] || { echo "grant-invokers.sh: --users-group and --public exclude each other (see --help)" >&2; exit 2; }

run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [[ $dry_run == 1 ]] || "$@"
}

# run.invoker on each function's Cloud Run service (https://cloud.google.com/sdk/gcloud/reference/functions/add-invoker-policy-binding).
if [[ $public == 1 ]]; then
  for fn in create destroy list; do
    run gcloud functions add-invoker-policy-binding "$allocator-$fn" --project="$project" --region="$region" --member=allUsers
  done
  exit 0
fi
for fn in create destroy list; do
  run gcloud functions add-invoker-policy-binding "$allocator-$fn" --project="$project" --region="$region" --member="group:$group"
done
# The scheduler calls destroy's /sweep only.
run gcloud functions add-invoker-policy-binding "$allocator-destroy" --project="$project" --region="$region" \
  --member="serviceAccount:${scheduler_sa}@${project}.iam.gserviceaccount.com"
