// Connecting the official TypeScript SDK client to the server under test, with deadlines.

import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Inbox, fetchTrackingGetStream, withTimeout } from './harness.mjs';

// Re-exported for scripts outside tests/e2e (scripts/verify-ha.mjs), which cannot resolve
// the SDK from tests/e2e/node_modules by package name.
export { Client, ResourceUpdatedNotificationSchema, SSEClientTransport, StreamableHTTPClientTransport };

/**
 * A `fetch` for the SDK's transport that keeps cookies as a browser would (the affinity
 * cookie `__frontmcp_node`) and logs every HTTP exchange as an object
 *   { at (performance.now() when sent), method, rpc (JSON-RPC methods in the body),
 *     sessionId (its Mcp-Session-Id), then status (0 on a network error), error, node
 *     (X-FrontMCP-Machine-Id), cookie (the affinity cookie after it), doneAt }.
 * `sent` holds each exchange from the moment it is sent, `exchanges` from the moment it is
 * answered or failed (the same objects); `onResponse(exchange)` runs for each answer.
 */
export function cookieJarFetch({ onResponse } = {}) {
  const jar = new Map();
  const sent = [];
  const exchanges = [];
  const fetchWithJar = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('Cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    let rpc = [];
    if (typeof init.body === 'string') {
      try {
        const b = JSON.parse(init.body);
        rpc = (Array.isArray(b) ? b : [b]).map((m) => m.method).filter(Boolean);
      } catch {
        /* not JSON */
      }
    }
    const ex = { at: performance.now(), method: (init.method ?? 'GET').toUpperCase(), rpc, sessionId: headers.get('mcp-session-id') };
    sent.push(ex);
    let res;
    try {
      res = await fetch(input, { ...init, headers });
    } catch (err) {
      Object.assign(ex, { status: 0, error: String(err.cause?.code ?? err.message), doneAt: performance.now() });
      exchanges.push(ex);
      throw err;
    }
    for (const c of res.headers.getSetCookie()) {
      const m = /^\s*([^=;\s]+)=([^;]*)/.exec(c);
      if (m) jar.set(m[1], m[2]);
    }
    Object.assign(ex, {
      status: res.status,
      node: res.headers.get('x-frontmcp-machine-id'),
      cookie: jar.get('__frontmcp_node'),
      doneAt: performance.now(),
    });
    exchanges.push(ex);
    onResponse?.(ex);
    return res;
  };
  return { fetch: fetchWithJar, jar, sent, exchanges };
}

/** Deadline of every SDK request in the tests (the SDK's own default is 60 s). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Options to pass as the last argument of SDK client calls. */
export const REQ = Object.freeze({ timeout: REQUEST_TIMEOUT_MS });

function newClient(name, capabilities) {
  return new Client({ name, version: '0.0.0' }, { capabilities });
}

/**
 * Connects an SDK client over Streamable HTTP. With `waitForGetStream` (default) it also waits
 * until the SDK's standalone GET stream is open and asserts the server accepted it (200), so
 * that server-initiated messages (resource updates; in json mode also sampling, elicitation,
 * logs and progress) have a stream to travel on before the test continues.
 * Returns { client, transport, errors: Inbox of transport errors, getStatuses }.
 */
export async function connectStreamable(url, { capabilities = {}, sessionId, waitForGetStream = true, name = 'frontmcp-e2e' } = {}) {
  const client = newClient(name, capabilities);
  const tracking = fetchTrackingGetStream();
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: tracking.fetch,
    sessionId,
    // A test must not hang on reconnect loops: give up quickly.
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 2 },
  });
  const errors = new Inbox('transport errors');
  await withTimeout(client.connect(transport, REQ), REQUEST_TIMEOUT_MS, `SDK client to connect to ${url}`);
  transport.onerror = ((prev) => (err) => {
    errors.push(err);
    prev?.(err);
  })(transport.onerror);
  if (waitForGetStream && sessionId === undefined) {
    const status = await withTimeout(tracking.getStreamOpen, 5_000, 'the SDK to open its standalone GET stream');
    if (status !== 200) throw new Error(`GET ${url} (standalone SSE stream) answered ${status}, expected 200`);
  }
  return { client, transport, errors, getStatuses: tracking.gets };
}

/** Connects an SDK client over the legacy HTTP+SSE transport (GET /sse, POST /message). */
export async function connectLegacySse(sseUrl, { capabilities = {}, name = 'frontmcp-e2e-legacy' } = {}) {
  const client = newClient(name, capabilities);
  const transport = new SSEClientTransport(new URL(sseUrl));
  await withTimeout(client.connect(transport, REQ), REQUEST_TIMEOUT_MS, `SDK client to connect to ${sseUrl}`);
  return { client, transport };
}

/** Closes clients, ignoring errors (teardown). Bounded. */
export async function closeAll(clients) {
  await Promise.all(
    clients.splice(0).map((c) => withTimeout(c.close(), 5_000, 'client.close()').catch(() => {})),
  );
}

/** The text of a tool result's single text content item (asserts the shape loosely). */
export function textOf(result) {
  const item = result?.content?.find((c) => c.type === 'text');
  if (!item) throw new Error(`no text content in ${JSON.stringify(result)}`);
  return item.text;
}
