#!/usr/bin/env bash
# Installs the OS packages the tests need, when they are missing (Debian/Ubuntu, as root).
# Real peers, not mocks: OpenIPMI's BMC simulator, ipmitool, FreeIPMI, ClusterLabs fence
# agents (fence_ipmilan, fence_redfish), DMTF's redfishtool, sushy and pyghmi's fake BMC; Debian's
# chromium for the status page's browser tests (driven by puppeteer-core, which downloads no
# browser); PostgreSQL for @hafence/store-typeorm (then scripts/setup-postgres.sh starts it and
# writes the test connection URL).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have systemd-analyze || need+=(systemd)   # verifies the example systemd units
have ipmi_sim || need+=(openipmi)
have ipmitool || need+=(ipmitool)
have ipmipower || need+=(freeipmi-tools)
have fence_ipmilan || need+=(fence-agents)
have redfishtool || need+=(redfishtool)      # DMTF's Redfish client, drives RedfishSim in CI
[ -d /usr/lib/python3/dist-packages/sushy ] || need+=(python3-sushy)   # OpenStack's Redfish library, too
have fakebmc || need+=(python3-pyghmi)
have pg_ctlcluster || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup: all test packages present"
  exec bash "$here/setup-postgres.sh"
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing ${need[*]}; run as root (or: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "setup: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup: done"
exec bash "$here/setup-postgres.sh"
