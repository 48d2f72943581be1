/**
 * A headless runtime with a hand-driven remote link, for the dashboard's e2e tests and for
 * trying the UI by hand: real listener, real processes, the real control server, and a
 * FakeRemoteLink whose registration states and streams come from stdin.
 *
 *   node --import tsx src-main/runtime/demo-runtime.ts [--renderer DIR] [--dashboard-port N]
 *
 * stdout: first line `{"listenUrl","dashboardUrl","controlUrl","token"}`, then one reply per
 * stdin line (`{"ok":true}` or `{"error":"…"}`). stdin: one JSON object per line:
 *   {"registration": {…RegistrationState fields}}   (needs a link: `connectRemote` first, or {"connect":true})
 *   {"connect": true}                               (same as the connectRemote command)
 *   {"stream": {…StreamView}}  {"streamRemoved": "id"}
 *   {"log": {"level": "info", "message": "…"}}
 *   {"fatal": {"code": 1, "message": "…"}}
 * EOF on stdin or SIGTERM ends it (every child is killed). API keys set from the UI are kept in
 * memory only, under a demo SecretBox that does not encrypt.
 */
import { createInterface } from 'node:readline';
import type { LogLevel, RegistrationState, StreamView } from '../control/contract.ts';
import { ControlServer } from '../control/control-server.ts';
import { ExecutorRuntime } from './executor-runtime.ts';
import { FakeRemoteLink } from './fake-remote-link.ts';
import { SettingsStore, type SecretBox } from './settings-store.ts';

const demoSecretBox: SecretBox = {
  available: () => true,
  encrypt: (text) => Buffer.from(text, 'utf8'),
  decrypt: (buf) => buf.toString('utf8'),
};

export interface DemoOptions {
  rendererDir?: string;
  dashboardPort?: number;
}

export async function startDemo(options: DemoOptions = {}) {
  let link: FakeRemoteLink | null = null;
  const runtime = new ExecutorRuntime({
    host: 'headless',
    version: 'demo',
    settings: new SettingsStore({ dir: null, secretBox: demoSecretBox }),
    listen: { host: '127.0.0.1', port: 0, auth: { mode: 'none' } },
    createRemoteLink: () => (link = new FakeRemoteLink()),
  });
  const control = await ControlServer.start({
    target: runtime,
    port: options.dashboardPort ?? 0,
    rendererDir: options.rendererDir,
    log: runtime.log,
    onToken: (t) => runtime.log.redactor.addSecret(t),
  });
  const listener = await runtime.startListener();

  /** Applies one stdin command; throws with a message for people. */
  const apply = (line: string): void => {
    const cmd = JSON.parse(line) as Record<string, unknown>;
    if (typeof cmd !== 'object' || cmd === null) throw new Error('expected a JSON object');
    if (cmd.connect === true) runtime.connectRemote();
    if (cmd.registration !== undefined) {
      if (!link) throw new Error('no remote link yet: send {"connect":true} first');
      link.setState(cmd.registration as Partial<RegistrationState>);
    }
    if (cmd.stream !== undefined) {
      if (!link) throw new Error('no remote link yet: send {"connect":true} first');
      link.setStream(cmd.stream as StreamView);
    }
    if (typeof cmd.streamRemoved === 'string') link?.removeStream(cmd.streamRemoved);
    if (cmd.log !== undefined) {
      const { level, message } = cmd.log as { level: LogLevel; message: string };
      runtime.log[level](String(message));
    }
    if (cmd.fatal !== undefined) {
      if (!link) throw new Error('no remote link yet');
      const { code, message } = cmd.fatal as { code: number; message: string };
      link.failForGood(code, message);
    }
  };

  return {
    runtime,
    control,
    listenUrl: listener.url!,
    apply,
    async stop() {
      await control.close();
      await runtime.shutdown();
    },
  };
}

async function cli(argv: string[]): Promise<void> {
  const options: DemoOptions = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--renderer') options.rendererDir = argv[++i];
    else if (argv[i] === '--dashboard-port') options.dashboardPort = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const demo = await startDemo(options);
  process.stdout.write(
    JSON.stringify({ listenUrl: demo.listenUrl, dashboardUrl: demo.control.dashboardUrl, controlUrl: demo.control.controlUrl, token: demo.control.token }) + '\n',
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await demo.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      demo.apply(line);
      process.stdout.write('{"ok":true}\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n');
    }
  });
  lines.on('close', () => void stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`demo-runtime: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
