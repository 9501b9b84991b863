// Reference MCP server for the load benchmark, written with the official TypeScript SDK
// (@modelcontextprotocol/sdk, as installed under tests/e2e/node_modules).
//
// Stateful Streamable HTTP, one StreamableHTTPServerTransport + McpServer per session kept in
// a Map (the SDK's README pattern), JSON responses (enableJsonResponse), one tool `echo`.
// Served with plain node:http; the body is read here and handed to handleRequest parsed.
//
// Usage: node bench/load/ts_server.mjs [PORT]        (PORT 0 or absent = any free port)
// Prints: "ts-server listening on http://127.0.0.1:PORT/mcp"
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const NM = new URL('../../tests/e2e/node_modules/', import.meta.url);
const { McpServer } = await import(new URL('@modelcontextprotocol/sdk/dist/esm/server/mcp.js', NM).href);
const { StreamableHTTPServerTransport } = await import(
  new URL('@modelcontextprotocol/sdk/dist/esm/server/streamableHttp.js', NM).href);
const { isInitializeRequest } = await import(new URL('@modelcontextprotocol/sdk/dist/esm/types.js', NM).href);
const z = await import(new URL('zod/index.js', NM).href);

const MAX_BODY = 4 * 1024 * 1024;
const transports = new Map(); // session id -> StreamableHTTPServerTransport

function makeServer() {
  const server = new McpServer({ name: 'ts-bench-server', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

function jsonError(res, status, message) {
  if (res.headersSent) return;
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
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname !== '/mcp') return jsonError(res, 404, 'Not found');
  const sid = req.headers['mcp-session-id'];

  if (req.method === 'POST') {
    let body;
    try {
      const text = await readBody(req);
      body = text.length ? JSON.parse(text) : undefined;
    } catch {
      return jsonError(res, 400, 'Parse error');
    }
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      if (sid || !isInitializeRequest(body)) return jsonError(res, sid ? 404 : 400, 'Bad Request: no valid session');
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      await makeServer().connect(transport);
    }
    return transport.handleRequest(req, res, body);
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    const transport = sid ? transports.get(sid) : undefined;
    if (!transport) return jsonError(res, sid ? 404 : 400, 'Bad Request: no valid session');
    return transport.handleRequest(req, res);
  }
  res.writeHead(405, { Allow: 'GET, POST, DELETE' }).end();
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.error('request failed:', e);
    jsonError(res, 500, 'Internal server error');
  });
});
httpServer.keepAliveTimeout = 60_000;
httpServer.headersTimeout = 65_000;
httpServer.requestTimeout = 0; // SSE streams stay open
httpServer.maxHeadersCount = 100;

const port = Number(process.argv[2] ?? 0);
httpServer.listen(port, '127.0.0.1', () => {
  console.log(`ts-server listening on http://127.0.0.1:${httpServer.address().port}/mcp`);
});

const stop = () => {
  httpServer.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
