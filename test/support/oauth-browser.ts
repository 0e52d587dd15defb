/** One response of the walk, as the browser saw it. */
export interface Step {
  url: string;
  status: number;
  body: string;
}

/**
 * A minimal browser for OAuth flows in tests: `fetch` with a cookie jar,
 * following redirects by hand until one leaves for the client's redirect URI,
 * and submitting the login and consent forms of the built-in authorization
 * server. Cookies are kept by name (the server scopes them by path; sending
 * them everywhere does not matter to it).
 */
export class TestBrowser {
  private readonly cookies = new Map<string, string>();
  readonly steps: Step[] = [];

  /** GETs `url` (or POSTs a form), following redirects; stops at a URL starting with `stopAt` and returns it, else the last page. */
  async go(url: string, stopAt: string, form?: Record<string, string>): Promise<{ redirectedTo?: string; page?: Step }> {
    let next: { url: string; init: RequestInit } = {
      url,
      init: form ? { method: 'POST', body: new URLSearchParams(form), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } } : {},
    };
    for (let hops = 0; hops < 20; hops++) {
      if (next.url.startsWith(stopAt)) return { redirectedTo: next.url };
      const res = await fetch(next.url, { ...next.init, redirect: 'manual', headers: { ...(next.init.headers as Record<string, string>), cookie: this.cookieHeader() } });
      for (const c of res.headers.getSetCookie()) this.store(c);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        next = { url: new URL(location, next.url).href, init: {} };
        await res.arrayBuffer();
        continue;
      }
      const step = { url: next.url, status: res.status, body: await res.text() };
      this.steps.push(step);
      return { page: step };
    }
    throw new Error('too many redirects');
  }

  /** Submits the form whose action ends with `/login`, `/confirm` or `/abort` on `page`, with its hidden fields plus `fields`. */
  async submit(page: Step, action: 'login' | 'confirm' | 'abort', fields: Record<string, string>, stopAt: string) {
    const form = formOf(page.body, action, fields.method);
    return this.go(new URL(form.action, page.url).href, stopAt, { ...form.hidden, ...fields });
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, pair.slice(eq + 1).trim());
  }
}

/** The form of a login or consent page (the login page has one per sign-in method), with its hidden inputs. */
export function formOf(body: string, action: string, method?: string): { action: string; hidden: Record<string, string> } {
  const forms = [...body.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const match = forms.find(([, url, inner]) => url.endsWith(`/${action}`) && (!method || inner.includes(`name="method" value="${method}"`)));
  if (!match) throw new Error(`no ${action} form on the page: ${body.slice(0, 500)}`);
  const hidden: Record<string, string> = {};
  for (const [, name, value] of match[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) hidden[name] = decode(value);
  return { action: decode(match[1]), hidden };
}

function decode(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
