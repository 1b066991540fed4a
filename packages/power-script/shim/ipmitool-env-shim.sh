#!/bin/sh
# ipmitool-env-shim.sh — hafence hands this to ClusterLabs fence agents as `ipmitool_path`.
# fence_ipmilan & co. put the password on ipmitool's command line (`-P <password>`), where
# every local user can read it in `ps`. hafence gives the agent no password at all (so it
# sends `-P ''`), and this shim drops any `-P <value>` and adds `-E`: ipmitool then reads
# IPMI_PASSWORD from the environment, which is private to the process. `-v` makes ipmitool
# name the failure (e.g. "RAKP 2 HMAC is invalid") so hafence can tell a refused
# password from an unreachable controller.
# HAFENCE_IPMITOOL: the real ipmitool (default: ipmitool on PATH).
n=$#
i=0
while [ "$i" -lt "$n" ]; do
  a=$1
  shift
  i=$((i + 1))
  if [ "$a" = "-P" ]; then
    if [ "$i" -lt "$n" ]; then shift; i=$((i + 1)); fi
    set -- "$@" -E
  else
    set -- "$@" "$a"
  fi
done
exec "${HAFENCE_IPMITOOL:-ipmitool}" -v "$@"
