/** Envelope scenarios: ids, message classification, malformed messages, params decoding, drops (§1.4–§1.5). */
import type { Scenario, TracedClient } from '../harness.ts';

/** Sends raw text frames one by one, each expecting exactly one more id -1 error (malformed message). */
async function malformed(c: TracedClient, frames: string[]): Promise<void> {
  for (const f of frames) {
    const before = c.replies(-1).length;
    c.sendRaw(f);
    await c.waitReply(-1, before + 1);
  }
}

const ids: Scenario = {
  name: 'envelope/ids',
  spec: '§1.4',
  description: 'no jsonrpc in replies; int/string/negative/zero/large ids echoed with their type; duplicate ids; jsonrpc and unknown members ignored',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    for (const id of [0, -5, 42, 'abc', '', '0', 'ü-✓', 9007199254740991, -9007199254740991]) {
      await c.request('environment/status', {}, id);
    }
    // i64 bounds and beyond, as raw text (JS numbers cannot hold them).
    c.sendRaw('{"id":9223372036854775807,"method":"environment/status"}');
    c.sendRaw('{"id":-9223372036854775808,"method":"environment/status"}');
    c.sendRaw('{"id":18446744073709551615,"method":"environment/status"}');
    c.sendRaw('{"id":1e3,"method":"environment/status"}');
    await c.request('environment/status', {}, 'fence-1');
    // Duplicate in-flight ids both get answered.
    c.send({ id: 7, method: 'environment/status' });
    c.send({ id: 7, method: 'environment/status' });
    await c.waitReply(7, 2);
    await c.sendAndWait({ jsonrpc: '2.0', id: 30, method: 'environment/status', params: {} });
    await c.sendAndWait({ jsonrpc: '1.0', id: 31, method: 'environment/status' });
    await c.sendAndWait({ id: 32, method: 'environment/status', extra: { x: 1 }, params: null });
    await c.sendAndWait({ id: 33, method: 'environment/status', trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    await c.sendAndWait({ id: 34, method: 'environment/status', trace: { traceparent: 'x', tracestate: 'y' } });
  },
};

const classification: Scenario = {
  name: 'envelope/classification',
  spec: '§1.4 §1.5',
  description: 'id null, float/bool/object ids, missing members, bad trace → -32600 id -1; a request carrying result/error is still a request',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await malformed(c, [
      '{"id":null,"method":"environment/status"}',
      '{"id":1.5,"method":"environment/status"}',
      '{"id":2.0,"method":"environment/status"}',
      '{"id":true,"method":"environment/status"}',
      '{"id":{},"method":"environment/status"}',
      '{"id":[1],"method":"environment/status"}',
      '{"id":1}',
      '{"foo":1}',
      '{}',
      '{"id":1,"method":5}',
      '{"method":null}',
      '{"id":40,"method":"environment/status","trace":"x"}',
    ]);
    // A trace object without traceparent is accepted (observed on 0.169.0).
    await c.sendAndWait({ id: 41, method: 'environment/status', trace: { tracestate: 'only' } });
    await c.sendAndWait({ id: 43, method: 'environment/status', trace: {} });
    await c.sendAndWait({ id: 44, method: 'environment/status', trace: null });
    await c.sendAndWait({ id: 50, method: 'environment/status', result: {} });
    await c.sendAndWait({ id: 51, method: 'environment/status', error: { code: 1, message: 'x' } });
    await c.sendAndWait({ id: 52, method: 'environment/status', params: {}, result: null });
    await c.request('environment/status', {}, 'fence');
    ctx.fact('still open', c.isOpen);
  },
};

const unknownMethods: Scenario = {
  name: 'envelope/unknown-method',
  spec: '§1.5 §13',
  description: 'unknown methods → -32601 before and after initialize, including absent methods from §13',
  async run(ctx) {
    const c = await ctx.connect();
    await c.request('no/such/method');
    await c.request('process/resize', { processId: 'x', rows: 1, cols: 1 });
    await c.request('', {});
    await c.handshake();
    for (const m of ['no/such/method', 'process/resize', 'process/kill', 'fs/rename', 'fs/watch', 'fs/unwatch', 'fs/unwatchMissing', 'environment/config/read', 'shutdown', 'exec', 'network/policyRequest', 'process/output', 'Environment/Status', 'environment/status ']) {
      await c.request(m, {});
    }
  },
};

const badParams: Scenario = {
  name: 'envelope/bad-params',
  spec: '§1.5',
  description: 'undecodable params → -32602 with serde texts; unit params forms; unknown fields ignored; negative u64',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    // Unit-params methods.
    await c.request('environment/status');
    await c.request('environment/status', null);
    await c.request('environment/status', {});
    await c.request('environment/status', []);
    await c.request('environment/status', { x: 1 });
    await c.request('environment/status', 'x');
    await c.request('environment/status', 0);
    await c.request('environment/info', []);
    // Struct params.
    await c.request('process/read');
    await c.request('process/read', null);
    await c.request('process/read', {});
    await c.request('process/read', []);
    await c.request('process/read', ['p', 0]);
    await c.request('process/read', 'p');
    await c.request('process/read', { processId: 5 });
    await c.request('process/read', { processId: 'nope', afterSeq: -1 });
    await c.request('process/read', { processId: 'nope', afterSeq: 1.5 });
    await c.request('process/read', { processId: 'nope', afterSeq: '1' });
    await c.request('process/read', { processId: 'nope', waitMs: -1 });
    await c.request('process/read', { processId: 'nope', maxBytes: null, afterSeq: null, waitMs: null, unknownField: true });
    await c.request('process/write', { processId: 'nope', chunk: 'eA==' });
    await c.request('process/write', { processId: 'nope', chunk: '!!', writeId: 'w' });
    await c.request('process/write', { processId: 'nope', chunk: 'eA==', writeId: '' });
    await c.request('process/write', { processId: 'nope', chunk: 5, writeId: 'w' });
    await c.request('process/signal', { processId: 'nope' });
    await c.request('process/signal', { processId: 'nope', signal: 'terminate' });
    await c.request('process/signal', { processId: 'nope', signal: 'Interrupt' });
    await c.request('process/signal', { processId: 'nope', signal: 'interrupt' });
    await c.request('process/terminate', {});
    await c.request('process/terminate', { processId: null });
    await c.request('process/start', {});
    await c.request('process/start', { processId: 'p', argv: 'true', cwd: ctx.workdirUri, env: {}, tty: false });
    await c.request('process/start', { processId: 'p', argv: ['true'], cwd: ctx.workdirUri, env: { A: 1 }, tty: false });
    await c.request('process/start', { processId: 'p', argv: ['true'], cwd: ctx.workdirUri, env: {}, tty: 'no' });
    await c.request('process/start', { processId: 'p', argv: ['true'], cwd: ctx.workdirUri, env: {}, tty: false, pipeStdin: null });
    await c.request('process/start', { processId: 'p', argv: ['true'], cwd: ctx.workdirUri, env: {}, tty: false, arg0: 5 });
    await c.request('process/start', { processId: 'p', argv: ['true'], cwd: ctx.workdirUri, env: null, tty: false });
  },
};

const notificationDrop: Scenario = {
  name: 'envelope/notification-drops',
  spec: '§1.5 §2.2',
  description: 'a notification other than initialized drops the connection (unknown, a request method, before/after init)',
  async run(ctx) {
    const c1 = await ctx.connect();
    await c1.handshake();
    await c1.request('environment/status');
    c1.notify('no/such/notification', {});
    ctx.fact('c1 disconnect (unknown notification after init)', await c1.waitDisconnect());
    const c2 = await ctx.connect();
    await c2.handshake();
    c2.notify('environment/status');
    ctx.fact('c2 disconnect (request method as notification)', await c2.waitDisconnect());
    const c3 = await ctx.connect();
    c3.notify('bogus');
    ctx.fact('c3 disconnect (unknown notification before init)', await c3.waitDisconnect());
    const c4 = await ctx.connect();
    c4.notify('initialized', {});
    ctx.fact('c4 disconnect (initialized before initialize)', await c4.waitDisconnect());
    const c5 = await ctx.connect();
    await c5.request('initialize', null);
    c5.notify('initialized');
    ctx.fact('c5 disconnect (initialized after a failed initialize)', await c5.waitDisconnect());
    // The server itself is fine.
    const c6 = await ctx.connect();
    await c6.handshake();
    await c6.request('environment/status');
  },
};

const unsolicited: Scenario = {
  name: 'envelope/unsolicited-response',
  spec: '§1.5 §11',
  description: 'a response or error object that matches no server request drops the connection, before and after init',
  async run(ctx) {
    const c1 = await ctx.connect();
    await c1.handshake();
    c1.send({ id: 1, result: {} });
    ctx.fact('c1 disconnect (result)', await c1.waitDisconnect());
    const c2 = await ctx.connect();
    await c2.handshake();
    c2.send({ id: 'x', error: { code: -32000, message: 'no' } });
    ctx.fact('c2 disconnect (error)', await c2.waitDisconnect());
    const c3 = await ctx.connect();
    c3.send({ id: 0, result: null });
    ctx.fact('c3 disconnect (result before init)', await c3.waitDisconnect());
    const c4 = await ctx.connect();
    await c4.handshake();
    c4.sendRaw('{"id":42,"result":{},"error":{"code":1,"message":"x"}}');
    ctx.fact('c4 disconnect (result and error)', await c4.waitDisconnect());
    const c5 = await ctx.connect();
    await c5.handshake();
    await c5.request('environment/status');
  },
};

export const envelopeScenarios: Scenario[] = [ids, classification, unknownMethods, badParams, notificationDrop, unsolicited];
