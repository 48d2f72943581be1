/** Environment scenarios (§10.1–§10.2): environment/info shape and environment/status. */
import { pathToFileURL } from 'node:url';
import { serverEnvironment, type Scenario } from '../harness.ts';

const info: Scenario = {
  name: 'environment/info-and-status',
  spec: '§10.1 §10.2 §2.1',
  description:
    'environment/info shape (capability flag names compared, values recorded), identical to initialize.environmentInfo and across sessions; environment/status',
  async run(ctx) {
    const c1 = await ctx.connect();
    const init = await c1.initialize({ clientName: 'conformance' });
    c1.notify('initialized', {});
    const a = await c1.request('environment/info', {});
    await c1.request('environment/info', null);
    await c1.request('environment/info');
    await c1.request('environment/status', {});
    const c2 = await ctx.connect();
    await c2.handshake();
    const b = await c2.request('environment/info', {});
    const initInfo = (init.result as any)?.environmentInfo;
    const infoA = a.result as any;
    ctx.fact('environment/info equals initialize.environmentInfo', JSON.stringify(infoA) === JSON.stringify(initInfo));
    ctx.fact('environment/info is the same in another session', JSON.stringify(infoA) === JSON.stringify(b.result));
    ctx.fact('field types', Object.fromEntries(Object.entries(infoA ?? {}).map(([k, v]) => [k, Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v])));
    ctx.fact('capability values are booleans', Object.values(infoA?.capabilities ?? { x: 0 }).every((v) => typeof v === 'boolean'));
    ctx.fact('cwd is the server cwd', infoA?.cwd === pathToFileURL(ctx.server.cwd).href);
    ctx.fact('userHomeDir is $HOME', infoA?.userHomeDir === pathToFileURL(serverEnvironment().HOME ?? '').href);
    ctx.record('providerId format sha256:<64 hex>', /^sha256:[0-9a-f]{64}$/.test(String(infoA?.providerId)));
    ctx.record('prependPathDirs', Array.isArray(infoA?.prependPathDirs) ? infoA.prependPathDirs.length : infoA?.prependPathDirs);
  },
};

export const environmentScenarios: Scenario[] = [info];
