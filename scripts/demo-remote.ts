/**
 * `npm run demo:remote`: remote mode on one machine, step by step, loopback only.
 *
 *  1. a fake environment registry + rendezvous (src-main/testkit/remote/fake-registry.ts);
 *  2. the exec-desk CLI as the executor: `exec-desk --remote <registry> --environment-id demo`
 *     with an API key, which registers a Noise key and connects to the rendezvous;
 *  3. a Noise harness (the client side): `/connect`, a relay stream, the hybridIK handshake,
 *     `initialize`, then one command run as a process on the executor;
 *  4. SIGTERM to the executor (exit 0) and clean-up.
 * Exits 0 when every step worked, 1 otherwise (with the executor's log tail).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeRegistry } from '../src-main/testkit/remote/fake-registry.ts';
import { NoiseHarness, runProcess } from '../src-main/testkit/remote/harness-client.ts';
import { decodeRelayFrame } from '../src-main/transport/relay/frame-codec.ts';

const API_KEY = 'sk-demo-executor';
const ENVIRONMENT_ID = 'demo';
const execDeskBin = fileURLToPath(new URL('../bin/exec-desk.mjs', import.meta.url));

let step = 0;
const say = (text: string) => process.stdout.write(`\n[${++step}] ${text}\n`);
const detail = (text: string) => process.stdout.write(`    ${text}\n`);

function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

async function main(): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-demo-'));
  let registry: FakeRegistry | null = null;
  let executor: ChildProcess | null = null;
  let executorLog = '';
  let harness: NoiseHarness | null = null;
  try {
    say('Starting a fake environment registry and rendezvous on 127.0.0.1');
    registry = await FakeRegistry.start({ executorToken: API_KEY });
    detail(`registry base URL: ${registry.baseUrl}`);

    say(`Starting the exec-desk CLI as a remote executor for environment "${ENVIRONMENT_ID}"`);
    const args = ['--remote', registry.baseUrl, '--environment-id', ENVIRONMENT_ID, '--name', 'demo laptop'];
    detail(`CODEX_API_KEY=<key> exec-desk ${args.join(' ')}`);
    executor = spawn(process.execPath, [execDeskBin, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: home, CODEX_API_KEY: API_KEY },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    executor.stderr!.on('data', (d: Buffer) => (executorLog += d.toString()));
    const exited = new Promise<number | null>((resolve) => executor!.once('exit', (code) => resolve(code)));
    await withTimeout('the executor connecting to the rendezvous', 30_000, registry.waitForExecutor(ENVIRONMENT_ID));
    const register = registry.requests.find((r) => r.endpoint === 'register')!;
    detail(`it registered: POST ${register.url} (security profile ${register.body.security_profile})`);
    detail(`registration id: ${registry.environments.get(ENVIRONMENT_ID)!.registrationId}`);
    detail('and holds one WebSocket to the rendezvous (no credential on it: the signed URL is the capability)');

    say('A harness asks the registry how to reach the environment (/connect) and joins the rendezvous');
    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId: ENVIRONMENT_ID });
    detail(`executor key suite: Noise_hybridIK (X25519 + ML-KEM-768), ${harness.bundle.executorKey.mlkem.length}-byte ML-KEM key`);

    say('Opening a relay stream: Noise hybridIK handshake, checked by the executor with the registry (/validate)');
    const stream = await harness.openStream();
    detail(`stream ${stream.streamId} is open; the registry validated the harness key: ${registry.requests.some((r) => r.endpoint === 'validate')}`);

    say('JSON-RPC initialize over the encrypted stream');
    const init = await stream.initialize('exec-desk-demo');
    detail(`session ${init.sessionId}; executor ${init.environmentInfo?.executorVersion ?? '?'} on ${init.environmentInfo?.platformOs ?? '?'}, shell ${init.environmentInfo?.shell?.path ?? '?'}`);

    say('Running a command as a process on the executor');
    const command = ['/bin/sh', '-c', 'echo "hello from $(uname -s) via exec-desk, pid $$"'];
    detail(`process/start ${JSON.stringify(command)}`);
    const result = await withTimeout('the command', 15_000, runProcess(stream, 'demo-1', command));
    detail(`stdout: ${result.stdout.trim()}`);
    detail(`exit code: ${result.exitCode}`);
    if (result.exitCode !== 0 || !result.stdout.startsWith('hello from')) throw new Error('the command did not run as expected');

    const frames = registry.frames.filter((f) => f.environmentId === ENVIRONMENT_ID);
    const dataFrames = frames.filter((f) => {
      const decoded = f.binary ? decodeRelayFrame(f.bytes) : null;
      return decoded?.ok && decoded.frame.body.kind === 'data';
    });
    const sawPlaintext = frames.some((f) => Buffer.from(f.bytes).includes('hello from'));
    detail(`the rendezvous relayed ${frames.length} frames (${dataFrames.length} encrypted data records); plaintext visible to it: ${sawPlaintext}`);
    if (sawPlaintext) throw new Error('the rendezvous saw plaintext');

    say('Stopping the executor with SIGTERM');
    executor.kill('SIGTERM');
    const code = await withTimeout('the executor exiting', 10_000, exited);
    detail(`exit code ${code}`);
    if (code !== 0) throw new Error(`the executor exited with ${code}`);
    process.stdout.write('\nDemo complete: registered, handshook, ran a command through the Noise relay, shut down cleanly.\n');
    return 0;
  } catch (error) {
    process.stdout.write(`\nDemo FAILED: ${(error as Error).message}\n`);
    if (executorLog) process.stdout.write(`--- executor log (tail) ---\n${executorLog.trim().split('\n').slice(-15).join('\n')}\n`);
    return 1;
  } finally {
    harness?.close();
    if (executor && executor.exitCode === null && executor.signalCode === null) executor.kill('SIGKILL');
    await registry?.close();
    rmSync(home, { recursive: true, force: true });
  }
}

process.exitCode = await main();
