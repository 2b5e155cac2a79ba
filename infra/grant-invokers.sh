#!/usr/bin/env bash
# For the `iam` auth shape only (Cloud Run's IAM check on, ALLOCATOR_AUTH_MODE=
# trust-cloud-run-iam): who may invoke the deployed functions. Run after the
# first deploy. Prints every command; with --dry-run it only prints.
#
# usage: infra/grant-invokers.sh --project P --region R --users-group GROUP_EMAIL
#          [--allocator syncbase-allocator] [--scheduler-sa allocator-scheduler] [--dry-run]
set -euo pipefail

project='' region='' group='' allocator=syncbase-allocator scheduler_sa=allocator-scheduler dry_run=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --project) project=$2; shift 2 ;;
    --region) region=$2; shift 2 ;;
    --users-group) group=$2; shift 2 ;;
    --allocator) allocator=$2; shift 2 ;;
    --scheduler-sa) scheduler_sa=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "grant-invokers.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for required in project region group; do
  [[ -n ${!required} ]] || { echo "grant-invokers.sh: --${required/group/users-group} is required (see --help)" >&2; exit 2; }
done

run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [[ $dry_run == 1 ]] || "$@"
}

for fn in create destroy list; do
  run gcloud functions add-invoker-policy-binding "$allocator-$fn" --project="$project" --region="$region" --member="group:$group"
done
# The scheduler calls destroy's /sweep only.
run gcloud functions add-invoker-policy-binding "$allocator-destroy" --project="$project" --region="$region" \
  --member="serviceAccount:${scheduler_sa}@${project}.iam.gserviceaccount.com"
