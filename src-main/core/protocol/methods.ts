/**
 * Method names of the exec-server protocol (local-protocol.md §13), the family string each
 * one uses in the reference's gating errors (§2.3), and its concurrency lane (§5). Named once.
 */

export const Method = {
  Initialize: 'initialize',
  Initialized: 'initialized',
  EnvironmentInfo: 'environment/info',
  EnvironmentStatus: 'environment/status',
  EnvironmentConfigRead: 'environmentConfig/read',
  ProcessStart: 'process/start',
  ProcessRead: 'process/read',
  ProcessWrite: 'process/write',
  ProcessSignal: 'process/signal',
  ProcessTerminate: 'process/terminate',
  FsReadFile: 'fs/readFile',
  FsWriteFile: 'fs/writeFile',
  FsCreateDirectory: 'fs/createDirectory',
  FsGetMetadata: 'fs/getMetadata',
  FsCanonicalize: 'fs/canonicalize',
  FsReadDirectory: 'fs/readDirectory',
  FsWalk: 'fs/walk',
  FsRemove: 'fs/remove',
  FsCopy: 'fs/copy',
  FsOpen: 'fs/open',
  FsReadBlock: 'fs/readBlock',
  FsWriteBlock: 'fs/writeBlock',
  FsClose: 'fs/close',
  FsWatchMissing: 'fs/watchMissing',
  HttpRequest: 'http/request',
  CapabilityRootsDiscoverV1: 'capabilityRoots/discoverV1',
  CapabilitiesDiscoverV2: 'capabilities/discoverV2',
} as const;

export const Notification = {
  ProcessOutput: 'process/output',
  ProcessExited: 'process/exited',
  ProcessClosed: 'process/closed',
  FsMissingChanged: 'fs/missingChanged',
  HttpRequestBodyDelta: 'http/request/bodyDelta',
} as const;

/** `<family>` in `client must call initialize before using <family> methods`. */
export type MethodFamily =
  | 'exec'
  | 'filesystem'
  | 'environment info'
  | 'environment status'
  | 'environment config'
  | 'http'
  | 'capability discovery';

/** With --concurrent-requests >= 2, control-lane methods never wait behind ordinary ones. */
export type Lane = 'control' | 'ordinary';

const CONTROL_LANE: ReadonlySet<string> = new Set([
  Method.EnvironmentInfo,
  Method.EnvironmentStatus,
  Method.ProcessSignal,
  Method.ProcessTerminate,
  Method.FsClose,
]);

export function laneOf(method: string): Lane {
  return CONTROL_LANE.has(method) ? 'control' : 'ordinary';
}

export function familyOf(method: string): MethodFamily | undefined {
  if (method.startsWith('process/')) return 'exec';
  if (method.startsWith('fs/')) return 'filesystem';
  switch (method) {
    case Method.EnvironmentInfo:
      return 'environment info';
    case Method.EnvironmentStatus:
      return 'environment status';
    case Method.EnvironmentConfigRead:
      return 'environment config';
    case Method.HttpRequest:
      return 'http';
    case Method.CapabilityRootsDiscoverV1:
    case Method.CapabilitiesDiscoverV2:
      return 'capability discovery';
    default:
      return undefined;
  }
}

/** The reference's answer to a method it does not know (-32601). */
export function methodNotFoundMessage(method: string): string {
  return `exec-server stub does not implement \`${method}\` yet`;
}
