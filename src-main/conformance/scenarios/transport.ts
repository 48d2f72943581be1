/** Transport scenarios: HTTP routes, Origin, frame kinds, closing (§1.2–§1.3). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../harness.ts';

/** Running (a zombie waiting for init to reap it counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const routes: Scenario = {
  name: 'transport/http-routes',
  spec: '§1.2',
  description: '/readyz GET/POST/with query, GET / without upgrade (400 + body), 404 paths, upgrade on /foo, query on /',
  async run(ctx) {
    await ctx.http('/readyz');
    await ctx.http('/readyz?probe=1&x');
    await ctx.http('/readyz', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
    await ctx.http('/readyz', { method: 'PUT' });
    await ctx.http('/');
    await ctx.http('/', { method: 'POST' });
    await ctx.http('/healthz');
    await ctx.http('/foo');
    await ctx.http('/foo/bar?x=1');
    await ctx.http('/foo', { upgrade: true });
    await ctx.http('/', { upgrade: true, headers: { 'Sec-WebSocket-Protocol': 'codex-exec' } });
    await ctx.tryConnect({ path: '/foo' });
    const c = await ctx.connect({ path: '/?token=ignored&x=1' });
    await c.handshake();
    await c.request('environment/status');
  },
};

const origin: Scenario = {
  name: 'transport/origin-403',
  spec: '§1.2',
  description: 'any request carrying an Origin header is 403 (readyz, /, unknown paths, upgrades, loopback origins)',
  async run(ctx) {
    for (const o of ['http://127.0.0.1', 'http://localhost:1234', 'null', 'https://example.com']) {
      await ctx.http('/readyz', { headers: { Origin: o } });
    }
    await ctx.http('/readyz', { method: 'POST', headers: { Origin: 'http://127.0.0.1' } });
    await ctx.http('/', { headers: { Origin: 'http://127.0.0.1' } });
    await ctx.http('/foo', { headers: { Origin: 'http://127.0.0.1' } });
    await ctx.http('/', { upgrade: true, headers: { Origin: 'http://127.0.0.1' } });
    await ctx.http('/foo', { upgrade: true, headers: { Origin: 'http://127.0.0.1' } });
    await ctx.tryConnect({ headers: { Origin: 'http://127.0.0.1' } });
    // Without Origin the same upgrade works.
    const c = await ctx.connect();
    await c.handshake();
    await c.request('environment/status');
  },
};

const frames: Scenario = {
  name: 'transport/frames',
  spec: '§1.3 §1.5',
  description: 'text and binary frames, batch → -32600 id -1, two objects in one frame, malformed JSON; the socket stays open',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    c.sendRaw('{"id":10,"method":"environment/status","params":{}}');
    await c.waitReply(10);
    c.sendRaw(Buffer.from('{"id":11,"method":"environment/status","params":{}}'), true);
    await c.waitReply(11);
    c.sendRaw(Buffer.from('{"id":12,"method":"environment/status"}'), true);
    await c.waitReply(12);
    // A batch.
    c.sendRaw('[{"id":13,"method":"environment/status"},{"id":14,"method":"environment/status"}]');
    await c.waitReply(-1, 1);
    c.sendRaw('[]');
    await c.waitReply(-1, 2);
    // Two objects in one frame, newline- and space-separated.
    c.sendRaw('{"id":15,"method":"environment/status"}\n{"id":16,"method":"environment/status"}');
    await c.waitReply(-1, 3);
    c.sendRaw('{"id":17,"method":"environment/status"} {"id":18,"method":"environment/status"}');
    await c.waitReply(-1, 4);
    // Malformed JSON, empty frame, a scalar, binary garbage.
    c.sendRaw('{"id":19,"method":');
    await c.waitReply(-1, 5);
    c.sendRaw('');
    await c.waitReply(-1, 6);
    c.sendRaw('42');
    await c.waitReply(-1, 7);
    c.sendRaw('"environment/status"');
    await c.waitReply(-1, 8);
    c.sendRaw(Buffer.from([0xff, 0xfe, 0x00]), true);
    await c.waitReply(-1, 9);
    // Still open and working.
    await c.request('environment/status');
    ctx.fact('still open', c.isOpen);
  },
};

const closing: Scenario = {
  name: 'transport/close',
  spec: '§1.3 §4',
  description: 'a client close frame makes the server drop the socket (1006); a TCP drop; new connections keep working',
  async run(ctx) {
    const c1 = await ctx.connect();
    await c1.handshake();
    await c1.request('environment/status');
    c1.close();
    ctx.fact('c1 close code after a client close frame', await c1.waitDisconnect());
    const c2 = await ctx.connect();
    await c2.request('environment/status');
    c2.drop();
    await c2.waitDisconnect();
    // Closing before initialize, too.
    const c3 = await ctx.connect();
    c3.close();
    ctx.fact('c3 close code (no initialize)', await c3.waitDisconnect());
    const c4 = await ctx.connect();
    await c4.handshake();
    await c4.request('environment/status');
  },
};

const sigterm: Scenario = {
  name: 'transport/server-sigterm',
  spec: '§1.1 §4',
  description: 'SIGTERM: the server exits 0 promptly, drops its sockets (1006) and kills every managed process (pipe and tty)',
  async run(ctx) {
    const server = await ctx.privateServer();
    const c = await ctx.connect({ port: server.port, describe: 'private server', ignoreProcessNotifications: true });
    await c.handshake();
    const pidFile = (name: string) => join(ctx.workdir, `${name}.pid`);
    await c.sh('pipe-victim', `echo $$ > ${pidFile('pipe')}; exec sleep 30`);
    await c.sh('tty-victim', `echo $$ > ${pidFile('tty')}; exec sleep 30`, { tty: true });
    await c.sh('group-victim', `sleep 30 & echo $! > ${pidFile('bg')}; wait`);
    await ctx.poll(() => ['pipe', 'tty', 'bg'].every((n) => existsSync(pidFile(n)) && readFileSync(pidFile(n), 'utf8').endsWith('\n')));
    const pids = ['pipe', 'tty', 'bg'].map((n) => Number(readFileSync(pidFile(n), 'utf8').trim()));
    const { code, ms } = await server.stop('SIGTERM');
    ctx.fact('server exit status after SIGTERM', code);
    ctx.fact('server exited within 2 s', ms < 2000);
    ctx.fact('client saw the socket close with', await c.waitDisconnect());
    await ctx.sleep(200);
    const survivors = pids.filter(alive);
    ctx.fact('managed processes still alive 200 ms later (pipe, tty, background)', pids.map(alive));
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
  },
};

export const transportScenarios: Scenario[] = [routes, origin, frames, closing, sigterm];
