#!/usr/bin/env node
// Completes the authorization the conformance suite's `authorization` command asks a person
// for, against Portico's built-in authorization server, for scripts/conformance-authorization.sh:
// waits for the suite to print its authorize URL into <suite-output-file>, then, like a
// browser with a cookie jar, signs in on the login page with <api-key>, approves on the consent
// page, follows the redirects and delivers the final one (with code, state, iss) to the suite's
// callback server. Usage:
//
//   node scripts/conformance-approve.js <suite-output-file> <issuer> <api-key> [timeout-ms]
//
// Exits 0 once the callback was delivered, 1 otherwise (with the reason on stderr).
'use strict';
const fs = require('node:fs');

const [outputFile, issuer, apiKey, timeoutArg] = process.argv.slice(2);
if (!outputFile || !issuer || !apiKey) {
  console.error('usage: conformance-approve.js <suite-output-file> <issuer> <api-key> [timeout-ms]');
  process.exit(2);
}
const deadline = Date.now() + Number(timeoutArg || 60000);
const cookies = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function authorizeUrl() {
  const prefix = `${issuer}/oauth/authorize?`;
  while (Date.now() < deadline) {
    const text = fs.existsSync(outputFile) ? fs.readFileSync(outputFile, 'utf8') : '';
    const line = text.split('\n').find((l) => l.trim().startsWith(prefix));
    if (line) return line.trim();
    await sleep(200);
  }
  throw new Error(`the suite printed no authorize URL starting with ${prefix}`);
}

function remember(res) {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

/** Follows redirects from `url` (a GET, or a POST of `form`) until a page is served; returns { url, status, body }. */
async function go(url, form) {
  let next = url;
  let init = form
    ? { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(issuer).origin } }
    : { method: 'GET', headers: {} };
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(next, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    remember(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next).href;
      init = { method: 'GET', headers: {} };
      await res.arrayBuffer();
      continue;
    }
    return { url: next, status: res.status, body: await res.text() };
  }
  throw new Error('too many redirects');
}

/** The hidden fields and action of the form posting to .../<action> (and, on the login page, for <method>). */
function form(page, action, method) {
  const decode = (v) => v.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
  for (const [, target, inner] of page.body.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    if (!target.endsWith(`/${action}`) || (method && !inner.includes(`name="method" value="${method}"`))) continue;
    const fields = {};
    for (const [, name, value] of inner.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[name] = decode(value);
    return { url: new URL(decode(target), page.url).href, fields };
  }
  throw new Error(`no ${action} form on ${page.url} (HTTP ${page.status}): ${page.body.slice(0, 300)}`);
}

(async () => {
  const start = await authorizeUrl();
  let page = await go(start);
  if (page.body.includes('Sign in to Portico')) {
    const login = form(page, 'login', 'key');
    page = await go(login.url, { ...login.fields, key: apiKey });
  }
  if (page.url.startsWith(issuer) && page.body.includes('/confirm')) {
    const consent = form(page, 'confirm');
    page = await go(consent.url, consent.fields);
  }
  // The last hop is the suite's own callback server ("OK. You can close this page.").
  if (page.url.startsWith(issuer)) throw new Error(`the authorization did not leave the server: HTTP ${page.status} at ${page.url}: ${page.body.slice(0, 300)}`);
  const callback = new URL(page.url);
  if (!callback.searchParams.get('code')) throw new Error(`the callback carries no code: ${page.url}`);
  console.error(`[approve] signed in, approved, delivered ${callback.origin}${callback.pathname} (HTTP ${page.status})`);
})().catch((e) => {
  console.error(`[approve] ${e.message}`);
  process.exit(1);
});
