#!/usr/bin/env bash
# Makes sure Debian's nginx binary is installed, without starting or enabling its service:
# the tests start their own nginx as a child process with their own configuration.
# Idempotent: a machine that has /usr/sbin/nginx is left alone (no apt-get at all).
#
#   bash scripts/ensure-nginx.sh        (.ci/run calls it; prints the nginx version)
#
# Debian bookworm ships nginx 1.22: the configurations in nginx/ are written for it
# (`listen 443 ssl http2`, not the `http2 on` of 1.25.1+).
set -euo pipefail

if [[ -x /usr/sbin/nginx ]]; then
  /usr/sbin/nginx -v 2>&1
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-nginx: /usr/sbin/nginx is missing; install it as root: apt-get install -y nginx-light (or nginx)" >&2
  exit 1
fi

start=$SECONDS
# policy-rc.d 101: the package's postinst must not start the system nginx service (port 80)
# on a machine where other jobs run; only the binary and its modules are wanted.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=true
fi
trap '[[ $created_policy == true ]] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
[[ -x /usr/sbin/nginx ]] || { echo "ensure-nginx: nginx did not install" >&2; exit 1; }
echo "ensure-nginx: installed in $((SECONDS - start)) s" >&2
/usr/sbin/nginx -v 2>&1
