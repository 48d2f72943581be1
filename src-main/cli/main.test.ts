import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { RpcClient } from '../testkit/rpc-client.ts';
import { execDeskBin, startServer } from '../testkit/server-process.ts';
import { isAlive } from '../core/process/test-support.ts';


async function gone(pid: number, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !isAlive(pid);
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [execDeskBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('prints the bound URL first, serves, and on SIGTERM kills every process and exits 0', async () => {
  const server = await startServer('exec-desk');
  assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
  const client = await RpcClient.connect(server.url);
  await client.handshake();
  await client.call('process/start', {
    processId: 'bg',
    argv: ['/bin/sh', '-c', 'sleep 60 & echo $!; wait'],
    cwd: 'file:///tmp',
    env: { PATH: '/usr/bin:/bin' },
    tty: false,
  });
  const out = await client.waitForNotification('process/output');
  const grandchild = Number(Buffer.from((out.params as any).chunk, 'base64').toString().trim());
  assert.ok(isAlive(grandchild));
  assert.equal(await server.stop('SIGTERM'), 0);
  assert.ok(await gone(grandchild), 'the background grandchild died with the server');
});

test('stdio mode: newline-delimited JSON, no banner, EOF ends the server and its processes', async () => {
  const child = spawn(process.execPath, [execDeskBin, '--listen', 'stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: any[] = [];
  let buffered = '';
  child.stdout.on('data', (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  const waitLine = async (pred: (m: any) => boolean) => {
    for (let i = 0; i < 300; i++) {
      const hit = lines.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no such line');
  };
  child.stdin.write('{"id":1,"method":"initialize","params":{"clientName":"stdio"}}\r\n\n{"method":"initialized"}\n');
  assert.ok((await waitLine((m) => m.id === 1)).result.sessionId);
  child.stdin.write('{bad\n');
  const bad = await waitLine((m) => m.id === -1);
  assert.equal(bad.error.message, 'failed to parse JSON-RPC message from exec-server stdio: key must be a string at line 1 column 2');
  child.stdin.write(
    JSON.stringify({
      id: 2,
      method: 'process/start',
      params: { processId: 's', argv: ['/bin/sh', '-c', 'echo $$; exec sleep 60'], cwd: 'file:///tmp', env: { PATH: '/usr/bin:/bin' }, tty: false },
    }) + '\n',
  );
  await waitLine((m) => m.id === 2);
  const output = await waitLine((m) => m.method === 'process/output');
  const pid = Number(Buffer.from(output.params.chunk, 'base64').toString().trim());
  assert.ok(isAlive(pid));
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.stdin.end();
  });
  assert.equal(code, 0);
  assert.equal(lines[0].id, 1, 'the first stdout line is the first response, no banner');
  assert.ok(await gone(pid), 'EOF on stdin killed the process');
});

test('--exit-on-stdin-close stops a websocket server when its stdin closes', async () => {
  const server = await startServer('exec-desk', { args: ['--listen', 'ws://127.0.0.1:0', '--exit-on-stdin-close'], stdinPipe: true });
  const exited = new Promise<number | null>((resolve) => server.child.on('exit', (c) => resolve(c)));
  server.child.stdin!.end();
  assert.equal(await exited, 0);
});

test('usage errors exit 2, configuration errors exit 1, each with a clear message', async () => {
  const unknown = await run(['--bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^error: unexpected argument '--bogus' found/);
  const zero = await run(['--concurrent-requests', '0']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /invalid value '0' for '--concurrent-requests <COUNT>'/);
  const scheme = await run(['--listen', 'http://127.0.0.1:1']);
  assert.equal(scheme.code, 1);
  assert.equal(scheme.stderr.split('\n')[0], 'Error: unsupported --listen URL `http://127.0.0.1:1`; expected `ws://IP:PORT` or `stdio`');
  const exposed = await run(['--listen', 'ws://0.0.0.0:0']);
  assert.equal(exposed.code, 1);
  assert.match(exposed.stderr, /refusing to start non-loopback websocket listener 0\.0\.0\.0:0 without auth/);
  assert.equal(exposed.stdout, '', 'nothing was bound, so no URL was printed');
});

test('a port already in use is reported like the reference', async () => {
  const first = await startServer('exec-desk');
  const port = first.url.split(':').pop()!;
  const second = await run(['--listen', `ws://127.0.0.1:${port}`]);
  assert.equal(second.code, 1);
  assert.equal(second.stderr.trim(), 'Error: Address in use (os error 98)');
  await first.stop();
});
