/** `process/*` requests (local-protocol.md §6): params as 0.169.0 decodes them, then the session's process table. */
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import type { MethodSpec } from '../rpc/method-table.ts';
import { Method } from '../protocol/methods.ts';
import { PathUriError } from '../protocol/path-uri.ts';
import { assertSandboxEnforceable, SandboxContext } from '../protocol/sandbox.ts';
import {
  base64Bytes,
  bool,
  custom,
  decodeParams,
  fail,
  invalidType,
  map,
  option,
  pathUri,
  seq,
  string,
  struct,
  u16,
  u64,
  unitEnum,
  usize,
  withDefault,
} from '../protocol/serde.ts';
import { JsonFloat } from '../rpc/json-text.ts';
import { uuidString } from '../protocol/uuid.ts';

const ExecEnvPolicy = struct('ExecEnvPolicy', {
  inherit: unitEnum(['core', 'all', 'none'] as const),
  ignoreDefaultExcludes: bool(),
  exclude: seq(string()),
  set: map(string()),
  includeOnly: seq(string()),
});

const ManagedNetworkSandboxContext = struct('ManagedNetworkSandboxContext', {
  loopbackPorts: seq(u16()),
  allowLocalBinding: bool(),
  allowUnixSockets: option(seq(string())),
  dangerouslyAllowAllUnixSockets: option(bool()),
});

/** Kept opaque: exec-desk advertises `networkProxyLaunch: false` and refuses a launch request. */
const RemoteNetworkProxyLaunchConfig = custom('struct RemoteNetworkProxyLaunchConfig', (value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof JsonFloat) {
    return invalidType(value, 'struct RemoteNetworkProxyLaunchConfig');
  }
  return value as Record<string, unknown>;
});

const ShellSnapshotRequest = struct('ShellSnapshotRequest', {
  scopeId: string(),
  shell: struct('ShellInfo', { name: string(), path: string() }),
});

const ExecMetadata = struct('ExecMetadata', { threadId: option(uuidString()), toolCallId: option(string()) });

export const WireExecParams = struct('WireExecParams', {
  processId: string(),
  argv: seq(string()),
  cwd: pathUri(),
  env: map(string()),
  envPolicy: option(ExecEnvPolicy),
  tty: bool(),
  pipeStdin: withDefault(bool(), false),
  arg0: option(string()),
  sandbox: option(SandboxContext),
  enforceManagedNetwork: withDefault(bool(), false),
  managedNetwork: option(ManagedNetworkSandboxContext),
  networkProxy: option(RemoteNetworkProxyLaunchConfig),
  shellSnapshot: option(ShellSnapshotRequest),
  metadata: option(ExecMetadata),
});

export const ReadParams = struct('ReadParams', {
  processId: string(),
  afterSeq: option(u64()),
  maxBytes: option(usize()),
  waitMs: option(u64()),
});

export const WriteParams = struct('WriteParams', {
  processId: string(),
  chunk: base64Bytes(),
  writeId: string(),
});

export const SignalParams = struct('SignalParams', {
  processId: string(),
  signal: unitEnum(['interrupt'] as const),
});

export const TerminateParams = struct('TerminateParams', { processId: string() });

function nativeCwd(uri: { toNativePath(): string; toString(): string }, raw: string): string {
  try {
    return uri.toNativePath();
  } catch (err) {
    if (err instanceof PathUriError) fail(`cwd URI \`${raw}\` is not valid on this exec-server host: ${err.message}`);
    throw err;
  }
}

export const processMethods: Array<[string, MethodSpec]> = [
  [
    Method.ProcessStart,
    {
      decode: (params) => ({ params: decodeParams(WireExecParams, params), raw: params as { cwd: string } }),
      handle: ({ params, raw }: { params: ReturnType<typeof WireExecParams.decode>; raw: { cwd: string } }, { session }) => {
        assertSandboxEnforceable(params.sandbox, 'start the process');
        if (params.networkProxy !== null) {
          throw new RpcError(ErrorCode.InvalidRequest, 'exec-desk does not launch network proxies (capability networkProxyLaunch is false)');
        }
        const cwd = nativeCwd(params.cwd, raw.cwd);
        return session.processes.start({
          processId: params.processId,
          argv: params.argv,
          cwd,
          env: params.env,
          envPolicy: params.envPolicy,
          tty: params.tty,
          pipeStdin: params.pipeStdin,
          arg0: params.arg0,
        });
      },
    },
  ],
  [
    Method.ProcessRead,
    {
      decode: (params) => decodeParams(ReadParams, params),
      handle: (params: ReturnType<typeof ReadParams.decode>, { session, signal }) =>
        session.processes.read(
          { processId: params.processId, afterSeq: params.afterSeq ?? 0, maxBytes: params.maxBytes, waitMs: params.waitMs ?? 0 },
          signal,
        ),
    },
  ],
  [
    Method.ProcessWrite,
    {
      decode: (params) => {
        const decoded = decodeParams(WriteParams, params);
        if (decoded.writeId === '') fail('writeId must not be empty');
        return decoded;
      },
      handle: (params: ReturnType<typeof WriteParams.decode>, { session }) => ({
        status: session.processes.write(params.processId, params.chunk, params.writeId),
      }),
    },
  ],
  [
    Method.ProcessSignal,
    {
      decode: (params) => decodeParams(SignalParams, params),
      handle: (params: ReturnType<typeof SignalParams.decode>, { session }) => {
        session.processes.signal(params.processId);
        return {};
      },
    },
  ],
  [
    Method.ProcessTerminate,
    {
      decode: (params) => decodeParams(TerminateParams, params),
      handle: (params: ReturnType<typeof TerminateParams.decode>, { session }) => session.processes.terminate(params.processId),
    },
  ],
];
