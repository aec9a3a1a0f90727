#!/bin/sh
# Usage: delete-job.sh <namespace> <job>
# skaffold pre-deploy hook: a Job's pod template cannot change, so the previous migration
# Job is removed (with its pods) before the new one is applied. Missing is fine.
set -eu
namespace=$1
job=$2
kubectl ${SKAFFOLD_KUBE_CONTEXT:+--context="$SKAFFOLD_KUBE_CONTEXT"} -n "$namespace" \
  delete job "$job" --ignore-not-found --cascade=foreground --wait=true
