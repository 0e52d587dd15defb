import { createHash } from 'node:crypto';

/** Escapes text for HTML content and attribute values. */
export function html(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;--line:#d0d7de;--accent:#0b5cad;--danger:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#4493f8;--danger:#f47067}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:30rem;margin:3rem auto;padding:2rem;background:var(--card);border:1px solid var(--line);border-radius:8px}
h1{font-size:1.4rem;margin:0 0 1rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}p,dl,ul{margin:.5rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:6px}
input:focus,button:focus{outline:3px solid var(--accent);outline-offset:2px}
button{margin-top:1rem;padding:.55rem 1.1rem;font:inherit;font-weight:600;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border-color:var(--line)}.actions{display:flex;gap:.75rem;flex-wrap:wrap}
.error{color:var(--danger);font-weight:600}.muted{color:var(--muted);font-size:.9rem}code{word-break:break-all}dt{font-weight:600}dd{margin:0 0 .5rem}
hr{border:0;border-top:1px solid var(--line);margin:1.5rem 0}
`;

/** The `style-src` hash of the one stylesheet: no inline script, no external asset, nothing else may load. */
const CSS_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

/** Security headers of every page: no framing (clickjacking), no caching, nothing loaded from elsewhere. */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': `default-src 'none'; style-src ${CSS_HASH}; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: Chromium then sends `Origin: null` with the forms' POSTs, which the Origin check refuses.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${html(title)} · Portico</title><style>${CSS}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}

export interface LoginView {
  uid: string;
  csrf: string;
  clientName: string;
  passwords: boolean;
  error?: string;
  username?: string;
}

export function loginPage(v: LoginView): string {
  const action = `/interaction/${encodeURIComponent(v.uid)}/login`;
  const hidden = (method: string) => `<input type="hidden" name="csrf" value="${html(v.csrf)}"><input type="hidden" name="method" value="${method}">`;
  const password = v.passwords
    ? `<form method="post" action="${action}" aria-labelledby="with-password">
<h2 id="with-password">With your Portico user</h2>${hidden('password')}
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required value="${html(v.username ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form><hr>`
    : '';
  return page(
    'Sign in',
    `<h1>Sign in to Portico</h1>
<p><strong>${html(v.clientName)}</strong> wants to use Portico on your behalf.</p>
${v.error ? `<p class="error" role="alert">${html(v.error)}</p>` : ''}
${password}<form method="post" action="${action}" aria-labelledby="with-key">
<h2 id="with-key">With an API key</h2>${hidden('key')}
<label for="key">API key</label><input id="key" name="key" type="password" autocomplete="off" required>
<button type="submit">Sign in with the key</button></form>`,
  );
}

export interface ConsentView {
  uid: string;
  csrf: string;
  clientName: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  account: string;
}

export function consentPage(v: ConsentView): string {
  const base = `/interaction/${encodeURIComponent(v.uid)}`;
  const describe = (s: string) => (s === 'mcp' ? ': use the tools open to every signed-in account' : '');
  const scopes = v.scopes.length
    ? `<ul>${v.scopes.map((s) => `<li><code>${html(s)}</code>${describe(s)}</li>`).join('')}</ul>`
    : '<p>Nothing beyond what it was granted before.</p>';
  return page(
    'Authorize',
    `<h1>Authorize ${html(v.clientName)}</h1>
<p>Signed in as <strong>${html(v.account)}</strong>.</p>
<dl><dt>Application</dt><dd>${html(v.clientName)}<br><span class="muted"><code>${html(v.clientId)}</code></span></dd>
<dt>Will return to</dt><dd><code>${html(v.redirectUri)}</code></dd></dl>
<h2>It asks for</h2>${scopes}
<p class="muted">It can then call Portico's tools as you until you revoke this consent.</p>
<div class="actions">
<form method="post" action="${base}/confirm"><input type="hidden" name="csrf" value="${html(v.csrf)}"><button type="submit">Allow</button></form>
<form method="post" action="${base}/abort"><input type="hidden" name="csrf" value="${html(v.csrf)}"><button type="submit" class="secondary">Deny</button></form>
</div>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${html(title)}</h1><p role="alert">${html(message)}</p>`);
}
