// Reference MCP server for the load benchmark's stateless generation (MCP 2026-07-28), written
// with the official TypeScript SDK v2 (@modelcontextprotocol/server 2.4.0, as installed under
// tests/e2e/node_modules).
//
// `createMcpHandler(factory, { legacy: 'reject' })`: a modern-only endpoint; the factory builds
// a fresh McpServer with one tool `echo` for every request, as the SDK requires (an instance
// serves one exchange). createMcpHandler returns a web-standard `fetch(Request) -> Response`
// handler; the SDK's own node:http adapter (`toNodeHandler` in @modelcontextprotocol/node) is
// not installed here, so this file converts node's request to a `Request` and the `Response`
// back itself: the request body is read into one Buffer (bounded like the SDK's 4 MiB),
// headers are copied as they are, a client that goes away aborts the Request's signal; a JSON
// answer is written at once with its Content-Length, an SSE answer is streamed.
// Host/Origin validation is put in front, as the SDK's documentation says to, with its own
// helpers (localhost names only).
//
// Usage: node bench/load/ts_server_v2.mjs [PORT]        (PORT 0 or absent = any free port)
// Prints: "ts-server-v2 listening on http://127.0.0.1:PORT/mcp"
import http from 'node:http';

const NM = new URL('../../tests/e2e/node_modules/', import.meta.url);
const {
  McpServer,
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} = await import(new URL('@modelcontextprotocol/server/dist/index.mjs', NM).href);
const z = await import(new URL('zod/index.js', NM).href);

const MAX_BODY = 4 * 1024 * 1024;

// Built once: the factory runs per request, the schema need not (zod compiles it on first use).
const echoInput = z.object({ text: z.string() });

function makeServer() {
  const server = new McpServer({ name: 'ts-bench-server-v2', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given', inputSchema: echoInput },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

const handler = createMcpHandler(() => makeServer(), {
  legacy: 'reject',
  onerror: (e) => {
    if (process.env.TS_SERVER_V2_DEBUG) console.error('mcp handler:', e);
  },
});
const allowedHosts = localhostAllowedHostnames();
const allowedOrigins = localhostAllowedOrigins();

function plainError(res, status, message) {
  if (res.headersSent) return res.destroy();
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** node:http request -> web Request (the whole body read first). */
async function toRequest(req, signal) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody ? await readBody(req) : undefined;
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody && body.length ? body : undefined,
    signal,
  });
}

/**
 * web Response -> node:http response: a JSON (or empty) answer in one write with its
 * Content-Length, anything else (an SSE answer) streamed as it comes.
 */
async function writeResponse(res, response) {
  const headers = {};
  for (const [k, v] of response.headers) headers[k] = v;
  if (!response.body || !(headers['content-type'] ?? '').startsWith('text/event-stream')) {
    const buf = response.body ? Buffer.from(await response.arrayBuffer()) : Buffer.alloc(0);
    headers['content-length'] = String(buf.length);
    res.writeHead(response.status, headers);
    return res.end(buf);
  }
  res.writeHead(response.status, headers);
  for await (const chunk of response.body) {
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname !== '/mcp') return plainError(res, 404, 'Not found');
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const request = await toRequest(req, abort.signal);
  const rejected =
    hostHeaderValidationResponse(request, allowedHosts) ?? originValidationResponse(request, allowedOrigins);
  return writeResponse(res, rejected ?? (await handler.fetch(request)));
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (e.status === 413) return plainError(res, 413, 'Request body too large');
    console.error('request failed:', e);
    plainError(res, 500, 'Internal server error');
  });
});
httpServer.keepAliveTimeout = 60_000;
httpServer.headersTimeout = 65_000;
httpServer.requestTimeout = 0; // SSE streams stay open
httpServer.maxHeadersCount = 100;

const port = Number(process.argv[2] ?? 0);
httpServer.listen(port, '127.0.0.1', () => {
  console.log(`ts-server-v2 listening on http://127.0.0.1:${httpServer.address().port}/mcp`);
});

const stop = () => {
  httpServer.close();
  handler.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
