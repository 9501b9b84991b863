// The legacy HTTP+SSE transport (protocol 2024-11-05): GET /sse opens the stream, whose first
// event `endpoint` names the URL to POST messages to; answers come back on the stream.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { httpRequest, initializeRequest, INITIALIZED, openSse, pollUntil, randomText, rpc, startServer } from './lib/harness.mjs';
import { REQ, closeAll, connectLegacySse, textOf } from './lib/sdk.mjs';

const WAIT_MS = 5_000;

describe('legacy HTTP+SSE transport', () => {
  let server;
  const clients = [];
  const streams = [];

  async function connect(options) {
    const c = await connectLegacySse(`${server.base}/sse`, options);
    clients.push(c.client);
    return c;
  }

  /** Opens GET /sse raw and returns { stream, endpoint } after the `endpoint` event. */
  async function openRawStream() {
    const stream = await openSse(`${server.base}/sse`, { headers: { Accept: 'text/event-stream' } });
    streams.push(stream);
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    const first = await stream.events.next(WAIT_MS, 'the endpoint event');
    assert.equal(first.event, 'endpoint');
    return { stream, endpoint: first.data };
  }

  before(async () => {
    server = await startServer(['--log-level', 'warn']);
  });
  after(async () => {
    for (const s of streams.splice(0)) s.close();
    await closeAll(clients);
    await server?.stop();
  });

  it('SDK client: initialize and list tools', async () => {
    const { client } = await connect();
    assert.ok(client.getServerCapabilities()?.tools, 'tools capability');
    const { tools } = await client.listTools({}, REQ);
    assert.ok(tools.some((t) => t.name === 'echo'), tools.map((t) => t.name).join(', '));
  });

  it('SDK client: echo returns exactly the text it was given', async () => {
    const { client } = await connect();
    const text = randomText('legacy');
    const result = await client.callTool({ name: 'echo', arguments: { text } }, undefined, REQ);
    assert.deepEqual(result.content, [{ type: 'text', text }]);
  });

  it('SDK client: progress notifications arrive on the stream', async () => {
    const { client } = await connect();
    const progress = [];
    await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
      ...REQ,
      onprogress: (p) => progress.push(p.progress),
    });
    // The SDK client handles notifications a microtask later than responses, so the last
    // progress, written right before the answer, can be dropped by the client when both arrive
    // in one chunk. The first two are 50 ms apart from it. (Exact sequence: the raw test below.)
    assert.deepEqual(progress.slice(0, 2), [0, 50], JSON.stringify(progress));
  });

  it('SDK client: sampling round trip', async () => {
    const { client } = await connect({ capabilities: { sampling: {} } });
    const prompt = randomText('legacy-prompt');
    const answer = randomText('legacy-answer');
    const prompts = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      prompts.push(req.params.messages[0].content.text);
      return { role: 'assistant', content: { type: 'text', text: answer }, model: 'e2e-model', stopReason: 'endTurn' };
    });
    const result = await client.callTool({ name: 'test_sampling', arguments: { prompt } }, undefined, REQ);
    assert.deepEqual(prompts, [prompt]);
    assert.ok(textOf(result).includes(answer), JSON.stringify(result));
  });

  it('the endpoint event is /message?sessionId=<id>', async () => {
    const { endpoint } = await openRawStream();
    assert.match(endpoint, /^\/message\?sessionId=[\x21-\x7e]+$/);
  });

  it('raw: POST /message answers 202 and the response arrives on the SSE stream', async () => {
    const { stream, endpoint } = await openRawStream();
    const url = new URL(endpoint, server.base).href;
    const headers = { 'Content-Type': 'application/json' };

    const init = initializeRequest({ protocolVersion: '2024-11-05' });
    const r1 = await httpRequest(url, { method: 'POST', headers, body: init });
    assert.equal(r1.status, 202, r1.body);
    const initAnswer = await stream.events.nextMatching((e) => e.json?.id === init.id, WAIT_MS, 'the initialize answer');
    assert.equal(initAnswer.event, 'message');
    assert.equal(initAnswer.json.result.protocolVersion, '2024-11-05');

    const r2 = await httpRequest(url, { method: 'POST', headers, body: INITIALIZED });
    assert.equal(r2.status, 202, r2.body);

    const text = randomText('raw-legacy');
    const call = rpc('tools/call', { name: 'echo', arguments: { text } });
    const r3 = await httpRequest(url, { method: 'POST', headers, body: call });
    assert.equal(r3.status, 202, r3.body);
    const answer = await stream.events.nextMatching((e) => e.json?.id === call.id, WAIT_MS, 'the echo answer');
    assert.deepEqual(answer.json.result.content, [{ type: 'text', text }]);
  });

  // One legacy session: initialize, then a tools/call with a progress token; returns the
  // progress seen before the answer. Each event must come within `waitMs`.
  async function progressRound(waitMs) {
    const { stream, endpoint } = await openRawStream();
    const url = new URL(endpoint, server.base).href;
    const headers = { 'Content-Type': 'application/json' };
    const init = initializeRequest({ protocolVersion: '2024-11-05' });
    await httpRequest(url, { method: 'POST', headers, body: init });
    await stream.events.nextMatching((e) => e.json?.id === init.id, waitMs, 'the initialize answer');
    await httpRequest(url, { method: 'POST', headers, body: INITIALIZED });

    const token = randomText('tok');
    const call = rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: token } });
    assert.equal((await httpRequest(url, { method: 'POST', headers, body: call })).status, 202);
    const progress = [];
    for (;;) {
      const ev = await stream.events.next(waitMs, `progress or the answer (after ${JSON.stringify(progress)})`);
      if (ev.json?.method === 'notifications/progress') {
        assert.equal(ev.json.params.progressToken, token);
        progress.push([ev.json.params.progress, ev.json.params.total]);
      } else if (ev.json?.id === call.id) {
        assert.ok(ev.json.result, ev.data);
        break;
      }
    }
    stream.close();
    return progress;
  }

  it('raw: progress 0, 50, 100 of 100 arrives on the stream before the answer', async () => {
    assert.deepEqual(await progressRound(WAIT_MS), [[0, 100], [50, 100], [100, 100]]);
  });

  // Regression: an event queued while the stream was busy writing the previous one woke no
  // one (the wake-up found no wait pending), and the answer sat in the queue until some
  // later event. It hit about 1 round in 40 under ASan; 160 rounds, 4 at a time, each
  // event within 3 s, caught it every time on the old code.
  it('raw: 160 progress rounds, 4 at a time: every answer comes without a further event', async () => {
    const rounds = 160;
    let next = 0;
    const worker = async () => {
      while (next < rounds) {
        next++;
        assert.deepEqual(await progressRound(3_000), [[0, 100], [50, 100], [100, 100]]);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  });

  it('raw: POST /message with an unknown sessionId is 404', async () => {
    const res = await httpRequest(`${server.base}/message?sessionId=no-such-session-${Date.now()}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: rpc('ping'),
    });
    assert.equal(res.status, 404, res.body);
  });

  it('raw: POST /message without a sessionId is 400', async () => {
    const res = await httpRequest(`${server.base}/message`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: rpc('ping'),
    });
    assert.equal(res.status, 400, res.body);
  });

  it('raw: POST /message for a closed /sse stream is 404', async () => {
    const { stream, endpoint } = await openRawStream();
    stream.close();
    const url = new URL(endpoint, server.base).href;
    // The server notices the closed connection asynchronously: poll (bounded) until it does.
    const res = await pollUntil(
      () => httpRequest(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: rpc('ping') }),
      (r) => r.status === 404,
      WAIT_MS,
      'POST /message of a closed stream to answer 404',
    );
    assert.equal(res.status, 404, res.body);
  });
});
