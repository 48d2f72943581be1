/**
 * Sandbox scenarios (§9). A disabled sandbox must behave like none. A restricting policy is an EXPECTED
 * DIVERGENCE: the reference runs the process in its Linux sandbox helper; exec-desk has no sandbox and must
 * refuse the request with a clear error instead of silently granting more access.
 */
import type { Scenario } from '../harness.ts';
import type { WireMessage } from '../normalize.ts';

/** exec-desk's side of the disabled-sandbox divergence: the process must simply run. */
function runsLikeNoSandbox(messages: WireMessage[]): string | null {
  const reply = messages.find((m) => m.id === 2 && m.method === undefined);
  if (!reply) return 'no reply to process/start';
  if (reply.error) return `process/start with a disabled sandbox was refused: ${reply.error.message}`;
  const out = messages
    .filter((m) => m.method === 'process/output' && m.params?.processId === 'disabled')
    .map((m) => Buffer.from(String(m.params.chunk), 'base64').toString())
    .join('');
  const exited = messages.find((m) => m.method === 'process/exited' && m.params?.processId === 'disabled');
  if (out !== 'disabled-ok\n') return `unexpected output ${JSON.stringify(out)}`;
  if (exited?.params?.exitCode !== 3) return `unexpected exit ${JSON.stringify(exited?.params)}`;
  if (!messages.some((m) => m.method === 'process/closed' && m.params?.processId === 'disabled')) return 'no process/closed';
  return null;
}

const disabled: Scenario = {
  name: 'sandbox/disabled-and-shape-errors',
  spec: '§9 §6.1',
  description:
    'process/start with permissions {type: disabled}: runs normally (sandboxType is an expected divergence); sandbox/metadata shape errors → -32602',
  async run(ctx) {
    const d = await ctx.connect({
      divergence: {
        name: 'sandbox-disabled-type',
        reason:
          'the reference runs even a disabled sandbox through its Linux helper and reports sandboxType "linuxSeccomp"; exec-desk may report "none". Output and exit must match.',
        checkExecDesk: runsLikeNoSandbox,
      },
    });
    await d.handshake();
    const sandbox = { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled' };
    await d.sh('disabled', 'echo disabled-ok; exit 3', { extra: { sandbox } });
    await d.waitClosed('disabled');

    const c = await ctx.connect();
    await c.handshake();
    await c.sh('null', 'echo sandbox-null', { extra: { sandbox: null } });
    await c.waitClosed('null');
    const metadata = { threadId: '0b8f8a9e-7c4e-4a56-9d0b-1f2e3d4c5b6a', toolCallId: 'call-1' };
    await c.sh('flags', 'echo flags-ok', { extra: { enforceManagedNetwork: true, managedNetwork: null, networkProxy: null, shellSnapshot: null, metadata } });
    await c.waitClosed('flags');
    await c.sh('bad-thread-id', 'true', { extra: { metadata: { threadId: 'not-a-uuid' } } });
    await c.sh('no-level', 'true', { extra: { sandbox: { permissions: { type: 'disabled' } } } });
    await c.sh('no-permissions', 'true', { extra: { sandbox: { windowsSandboxLevel: 'disabled' } } });
    await c.sh('bad-type', 'true', { extra: { sandbox: { permissions: { type: 'bogus' }, windowsSandboxLevel: 'disabled' } } });
    await c.sh('bad-level', 'true', { extra: { sandbox: { permissions: { type: 'disabled' }, windowsSandboxLevel: 'bogus' } } });
    await c.sh('not-object', 'true', { extra: { sandbox: 'disabled' } });
    // Outside a sandbox, denial-looking output never sets sandboxDenied.
    await c.shToClose('denied-text', 'echo "sandbox: operation not permitted" >&2; exit 1');
  },
};

function refusesClearly(messages: WireMessage[]): string | null {
  const reply = messages.find((m) => m.id === 2 && m.method === undefined);
  if (!reply) return 'no reply to the sandboxed process/start';
  if (!reply.error) return `the sandboxed process/start was accepted (${JSON.stringify(reply.result)}) instead of refused`;
  if (![-32600, -32602, -32603].includes(reply.error.code)) return `unexpected error code ${reply.error.code}`;
  if (!/sandbox/i.test(reply.error.message)) return `error message does not mention the sandbox: ${JSON.stringify(reply.error.message)}`;
  return null;
}

const restricted: Scenario = {
  name: 'sandbox/restricted-policy',
  spec: '§9',
  description: 'a read-only managed policy: the reference runs its Linux sandbox helper; exec-desk refuses (expected divergence)',
  async run(ctx) {
    const c = await ctx.connect({
      divergence: {
        name: 'sandbox-restricted',
        reason: 'the reference sandboxes the process (linuxSeccomp); exec-desk has no sandbox and refuses restricting policies with an error',
        checkExecDesk: refusesClearly,
      },
    });
    await c.handshake();
    const sandbox = {
      permissions: {
        type: 'managed',
        file_system: { type: 'restricted', entries: [{ path: { type: 'path', path: ctx.workdirUri }, access: 'read' }] },
        network: 'restricted',
      },
      windowsSandboxLevel: 'disabled',
      cwd: ctx.workdirUri,
    };
    const reply = await c.sh('ro', 'echo inside', { extra: { sandbox } });
    if (!reply.error) await c.waitClosed('ro', 5000);
    // The same connection keeps working either way (compared outside the divergence).
    const after = await ctx.connect();
    await after.handshake();
    await after.shToClose('plain', 'echo after');
  },
};

export const sandboxScenarios: Scenario[] = [disabled, restricted];
