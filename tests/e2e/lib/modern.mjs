// The stateless generation (MCP 2026-07-28) on the wire, by hand: a request carries its
// protocol version and client capabilities in params._meta and the standard headers
// (MCP-Protocol-Version, Mcp-Method, Mcp-Name). No session, no initialize.
import { ACCEPT_BOTH, httpRequest, messagesOf, rpc } from './harness.mjs';

export const MODERN = '2026-07-28';

/** params._meta of a modern request: the envelope plus `more`. */
export function envelope({ capabilities = {}, more = {} } = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'frontmcp-e2e-modern', version: '0.0.0' },
    ...more,
  };
}

/** The Mcp-Name of a request (tools/call and prompts/get: params.name; resources/read: params.uri). */
function nameOf(method, params) {
  if (method === 'tools/call' || method === 'prompts/get') return params.name;
  if (method === 'resources/read') return params.uri;
  return undefined;
}

/**
 * POSTs one modern request to `url`; resolves to { status, headers, body, message } where
 * `message` is the JSON-RPC response (from JSON or the SSE stream; undefined if none).
 */
export async function modernCall(url, method, params = {}, { capabilities = {}, headers = {}, timeoutMs = 10_000 } = {}) {
  const msg = rpc(method, { ...params, _meta: envelope({ capabilities, more: params._meta ?? {} }) });
  const name = nameOf(method, params);
  const res = await httpRequest(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: ACCEPT_BOTH,
      'MCP-Protocol-Version': MODERN,
      'Mcp-Method': method,
      ...(name !== undefined ? { 'Mcp-Name': name } : {}),
      ...headers,
    },
    body: JSON.stringify(msg),
    timeoutMs,
  });
  const message = messagesOf(res).find((m) => m.id === msg.id);
  return { ...res, message };
}
