#!/bin/sh
# Usage: wait-for-job.sh <namespace> <job> [timeout-seconds]
# skaffold post-deploy hook of the platform module: returns 0 once the Job completed, 1 as
# soon as it failed (printing its logs) or the timeout passed. skaffold then stops before
# the application is deployed, so new pods never run against an unmigrated schema.
set -eu
namespace=$1
job=$2
timeout=${3:-900}
interval=${WAIT_INTERVAL_SECONDS:-5}

k() { kubectl ${SKAFFOLD_KUBE_CONTEXT:+--context="$SKAFFOLD_KUBE_CONTEXT"} -n "$namespace" "$@"; }

deadline=$(($(date +%s) + timeout))
while :; do
  conditions=$(k get job "$job" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
  case " $conditions " in
    *" Complete "*)
      echo "job/$job completed"
      exit 0
      ;;
    *" Failed "*)
      echo "job/$job failed:" >&2
      k logs "job/$job" --all-containers --tail=200 >&2 || true
      exit 1
      ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "job/$job did not complete within ${timeout}s" >&2
    k logs "job/$job" --all-containers --tail=200 >&2 || true
    exit 1
  fi
  sleep "$interval"
done
