/** Lifecycle scenarios: initialize/initialized rules and method gating (§2). */
import type { Scenario, TracedClient } from '../harness.ts';

/** One representative request per gated family (§2.3) plus an unknown method, with decodable params. */
function gatedRequests(workdirUri: string): Array<[string, unknown]> {
  return [
    ['process/start', { processId: 'p', argv: ['true'], cwd: workdirUri, env: {}, tty: false, arg0: null }],
    ['process/read', { processId: 'p' }],
    ['process/write', { processId: 'p', chunk: '', writeId: 'w' }],
    ['process/signal', { processId: 'p', signal: 'interrupt' }],
    ['process/terminate', { processId: 'p' }],
    ['fs/readFile', { path: `${workdirUri}/x` }],
    ['fs/watchMissing', { watchId: 1, missing: [`${workdirUri}/x`] }],
    ['fs/close', { handleId: 'h' }],
    ['environment/info', {}],
    ['environment/status', {}],
    ['environmentConfig/read', { cwd: workdirUri, configPaths: [['model']], requirementsPaths: [] }],
    ['http/request', { method: 'GET', url: 'http://127.0.0.1:9/', requestId: 'r' }],
    ['capabilityRoots/discoverV1', { roots: [] }],
    ['capabilities/discoverV2', { cwd: workdirUri }],
    ['no/such/method', {}],
  ];
}

async function sendAll(c: TracedClient, requests: Array<[string, unknown]>): Promise<void> {
  for (const [method, params] of requests) await c.request(method, params);
}

const gating: Scenario = {
  name: 'lifecycle/gating',
  spec: '§2.3',
  description: 'every family string before initialize and before initialized; undecodable params vs gating order; works after',
  async run(ctx) {
    const c = await ctx.connect();
    const requests = gatedRequests(ctx.workdirUri);
    await sendAll(c, requests);
    // Which comes first: params decoding or gating?
    await c.request('process/read', {});
    await c.request('process/read', null);
    await c.request('environment/status', [1]);
    await c.initialize({ clientName: 'conformance' });
    await sendAll(c, requests);
    await c.request('process/read', {});
    await c.request('environment/status', [1]);
    c.notify('initialized', {});
    await c.request('environment/status', {});
    await c.request('process/read', { processId: 'p' });
    await c.request('process/terminate', { processId: 'p' });
  },
};

const initializeTwice: Scenario = {
  name: 'lifecycle/initialize-twice',
  spec: '§2.1 §2.2',
  description: 'second initialize → -32600 (also before initialized and with resume); initialized again and with odd params is harmless',
  async run(ctx) {
    const c = await ctx.connect();
    await c.initialize({ clientName: 'conformance' });
    await c.initialize({ clientName: 'conformance' });
    c.notify('initialized', {});
    await c.initialize({ clientName: 'again', resumeSessionId: c.sessionId });
    await c.initialize(null);
    c.notify('initialized', {});
    c.notify('initialized');
    c.notify('initialized', [1, 2]);
    c.notify('initialized', 'x');
    await c.request('environment/status');
    ctx.fact('still open', c.isOpen);
  },
};

const failedInitialize: Scenario = {
  name: 'lifecycle/failed-initialize-retry',
  spec: '§2.1',
  description: 'failed initialize attempts (bad params, unknown/empty session) do not count; a later one succeeds on the same socket',
  async run(ctx) {
    const c = await ctx.connect();
    await c.initialize(null);
    await c.initialize({});
    await c.initialize([]);
    await c.initialize({ clientName: 5 });
    await c.initialize({ clientName: 'x', resumeSessionId: 5 });
    await c.initialize({ clientName: 'x', resumeSessionId: '00000000-0000-4000-8000-000000000000' });
    await c.initialize({ clientName: 'x', resumeSessionId: '' });
    await c.initialize({ clientName: 'x', resumeSessionId: 'not-a-uuid' });
    // Still not initialized.
    await c.request('environment/status');
    await c.initialize({ clientName: 'conformance', resumeSessionId: null, capabilities: { x: 1 }, extra: true });
    await c.request('environment/status');
    c.notify('initialized', {});
    await c.request('environment/status');
  },
};

const initializedAsRequest: Scenario = {
  name: 'lifecycle/initialized-as-request',
  spec: '§2.2',
  description: 'initialized sent with an id → -32601 (before and after initialize), and it does not count as initialized',
  async run(ctx) {
    const c = await ctx.connect();
    await c.request('initialized', {});
    await c.initialize({ clientName: 'conformance' });
    await c.request('initialized', {});
    await c.request('environment/status');
    c.notify('initialized', {});
    await c.request('environment/status');
  },
};

export const lifecycleScenarios: Scenario[] = [gating, initializeTwice, failedInitialize, initializedAsRequest];
