/**
 * A real headless exec-desk (`bin/exec-desk.mjs --no-ui --dashboard …`) for the browser tests:
 * the listener URL is its first stdout line, the dashboard URL its `exec-desk dashboard:` stderr
 * line. Runs with its own EXEC_DESK_HOME so the discovery file lands in a temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_LINE_PREFIX } from '../../src-main/cli/headless.ts';
import { startServer, type StartedServer } from '../../src-main/testkit/server-process.ts';

export interface HeadlessRuntime {
  listenUrl: string;
  /** `http://127.0.0.1:PORT/#token=…` */
  dashboardUrl: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  token: string;
  server: StartedServer;
  stderr(): string;
  stop(): Promise<number | null>;
}

export async function startHeadlessRuntime(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<HeadlessRuntime> {
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-e2e-'));
  const server = await startServer('exec-desk', {
    args: ['--no-ui', '--listen', 'ws://127.0.0.1:0', '--dashboard', ...extraArgs],
    env: { ...process.env, EXEC_DESK_HOME: home, EXEC_DESK_LOG: 'info', ...env },
  });
  let dashboardUrl: string;
  try {
    dashboardUrl = await waitForLine(server, DASHBOARD_LINE_PREFIX);
  } catch (err) {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const parsed = new URL(dashboardUrl);
  const token = new URLSearchParams(parsed.hash.slice(1)).get('token') ?? '';
  return {
    listenUrl: server.url,
    dashboardUrl,
    origin: parsed.origin,
    token,
    server,
    stderr: server.stderr,
    async stop() {
      const code = await server.stop();
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}

async function waitForLine(server: StartedServer, prefix: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = server
      .stderr()
      .split('\n')
      .find((l) => l.startsWith(prefix));
    if (line) return line.slice(prefix.length).trim();
    if (server.child.exitCode !== null) throw new Error(`exec-desk exited (${server.child.exitCode}) before printing the dashboard URL:\n${server.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no "${prefix}" line within ${timeoutMs} ms:\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
