import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Security headers on every response of both ports (helmet), first in each
 * app's chain so that refusals (403, 413, 404, 401) carry them too.
 *
 * - CSP: nothing loads by default; these are JSON APIs. `script-src 'self'`
 *   is there for oidc-provider, which adds the hash of its one inline script
 *   (the form_post auto-submit) to a policy that has a script-src. The login
 *   and consent pages set their own stricter policy (interaction.views.ts).
 *   No `form-action`: Chromium applies it to the redirect back to the client
 *   after the consent form.
 * - No HSTS: Portico speaks plain HTTP behind a TLS terminator, which owns
 *   HSTS (nginx/portico.conf sets it); a browser ignores HSTS over plain HTTP
 *   anyway, and a loopback deployment must not pin itself to HTTPS.
 * - Referrer-Policy `no-referrer` (the login pages override it with
 *   `same-origin`, which their form posts need).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: false,
    frameguard: { action: 'deny' },
  });
}
