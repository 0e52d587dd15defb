#!/bin/sh
# Mounted into the nginx image's /docker-entrypoint.d/: reloads nginx every 6 hours in the
# background, so a certificate that certbot renewed (docker/compose.yml, service certbot) is
# served without a restart. A reload keeps open connections, SSE streams included.
(
  while :; do
    sleep 21600
    nginx -s reload
  done
) &
