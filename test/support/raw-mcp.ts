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
 * A legacy-era call whose response stream is cut after its first progress event, then resumed
 * with GET + `Last-Event-ID` (as a client does after the advertised retry interval): the id of the
 * last event seen before the cut, the resumed stream's status, and what it replayed up to the
 * response with `id`. `headers`: the session's (Accept, Content-Type, credential, Mcp-Session-Id,
 * MCP-Protocol-Version).
 */
export async function cutAndResume(url: string, headers: Record<string, string>, call: { id: number } & Record<string, unknown>) {
  const cut = new AbortController();
  const first = await fetch(url, { method: 'POST', headers, signal: cut.signal, body: JSON.stringify(call) });
  const reader = first.body!.getReader();
  let seen = '';
  while (!/notifications\/progress/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
  cut.abort();
  // A client waits the advertised retry interval before reconnecting; by then the server has seen the drop.
  await new Promise((r) => setTimeout(r, 300));
  const lastEventId = [...seen.matchAll(/^id: (.+)$/gm)].pop()![1];

  const resumed = await fetch(url, { headers: { ...headers, Accept: 'text/event-stream', 'Last-Event-ID': lastEventId } });
  const resumedReader = resumed.body!.getReader();
  const done = new RegExp(`"id":${call.id}\\b`);
  let replay = '';
  while (!done.test(replay)) {
    const { value, done: ended } = await resumedReader.read();
    if (ended) break;
    replay += new TextDecoder().decode(value);
  }
  await resumedReader.cancel();
  return { lastEventId, status: resumed.status, replay };
}
