/** Headers of a raw Streamable HTTP POST. */
export const ACCEPT = { Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' };

/** The legacy-era revision raw requests speak. */
export const LEGACY = '2025-11-25';

/** A legacy-era `initialize`, as a raw client would send it. */
export const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'raw-http', version: '1' } },
};

/**
 * Calls `slow_count` (test/support/test-tools.ts) in a raw legacy session and
 * drops the response stream after the first progress event, as a flaky
 * network would; returns the id of the last event received (for `Last-Event-ID`).
 */
export async function cutSlowCountCall(url: string, session: Record<string, string>, id: number): Promise<string> {
  const cut = new AbortController();
  const call = await fetch(url, {
    method: 'POST',
    headers: session,
    signal: cut.signal,
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow_count', arguments: { to: 4, every_ms: 150 }, _meta: { progressToken: 'p' } } }),
  });
  const reader = call.body!.getReader();
  let seen = '';
  while (!/notifications\/progress/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
  cut.abort();
  return [...seen.matchAll(/^id: (.+)$/gm)].pop()![1];
}

/**
 * Resumes a legacy session's stream after a drop (GET with `Last-Event-ID`), as a client does
 * after the advertised retry interval: the resumed stream's status and what it replayed up to the
 * response with `id`.
 */
export async function resumeAfter(url: string, session: Record<string, string>, lastEventId: string, id: number): Promise<{ status: number; replay: string }> {
  // By the retry interval, the server has seen the drop.
  await new Promise((r) => setTimeout(r, 300));
  const resumed = await fetch(url, { headers: { ...session, Accept: 'text/event-stream', 'Last-Event-ID': lastEventId } });
  const reader = resumed.body!.getReader();
  const response = new RegExp(`"id":${id}\\b`);
  let replay = '';
  while (!response.test(replay)) {
    const { value, done } = await reader.read();
    if (done) break;
    replay += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return { status: resumed.status, replay };
}
