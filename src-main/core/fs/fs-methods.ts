/**
 * The filesystem methods (local-protocol.md §7): params decoded exactly as 0.169.0's serde
 * structs (names, field order, which fields are `Option`, which have a default), then the
 * operations in fs-ops.ts / walk.ts / file-handles.ts / missing-watch.ts, with every failure
 * mapped through toRpcError (NotFound → -32004, InvalidInput/PermissionDenied → -32600, other
 * → -32603, the io::Error's text as message).
 *
 * Sandbox: every request except fs/readBlock, fs/writeBlock, fs/close and fs/watchMissing (whose
 * third field is `present`, a path, in 0.169.0) takes an optional `sandbox`. A
 * policy that restricts nothing a file operation can do runs as usual; one that restricts the
 * file system is refused with -32600 (assertSandboxEnforceable), because exec-desk cannot confine
 * file access yet. A network restriction alone does not refuse a file operation: file operations
 * make no network connections, so it is satisfied trivially.
 */
import { encodeNotification } from '../rpc/envelope.ts';
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import type { ConnectionScope, MethodSpec } from '../rpc/method-table.ts';
import { Method, Notification } from '../protocol/methods.ts';
import { toPathUri, type PathUri } from '../protocol/path-uri.ts';
import { assertSandboxEnforceable, SandboxContext, type PermissionProfile, type SandboxRequest } from '../protocol/sandbox.ts';
import { Base64Error, decodeBase64 } from '../rpc/base64.ts';
import {
  base64Bytes,
  bool,
  decodeParams,
  option,
  pathUri,
  seq,
  string,
  struct,
  u64Big,
  unitEnum,
  usize,
  withDefault,
  type Decoder,
  type Infer,
} from '../protocol/serde.ts';
import { toRpcError } from './fs-errors.ts';
import { nativePath } from './fs-paths.ts';
import {
  canonicalize,
  copyPath,
  createDirectory,
  getMetadata,
  readDirectory,
  readWholeFile,
  removePath,
  writeFileData,
} from './fs-ops.ts';
import { validateWalkLimits, walk } from './walk.ts';
import { FileHandleTable } from './file-handles.ts';
import { MissingWatchSlot } from './missing-watch.ts';
import { readFileResult } from './base64-result.ts';

// ---------------------------------------------------------------------------------------------
// Params (struct names and field order from the binary: `invalid length n, expected struct X with
// m elements` and per-position type errors)

/** `#[serde(default)] Option<bool>`: absent, null or a bool. */
const followSymlinks = () => withDefault(option(bool()), null);
const sandbox = () => option(SandboxContext);

export const WireFsReadFileParams = struct('WireFsReadFileParams', {
  path: pathUri(),
  followSymlinks: followSymlinks(),
  sandbox: sandbox(),
});

export const WireFsWriteFileParams = struct('WireFsWriteFileParams', {
  path: pathUri(),
  // Kept as text: invalid base64 is a -32600 from the handler, not a params error.
  dataBase64: string(),
  followSymlinks: followSymlinks(),
  sandbox: sandbox(),
});

export const WireFsCreateDirectoryParams = struct('WireFsCreateDirectoryParams', {
  path: pathUri(),
  recursive: option(bool()),
  followSymlinks: followSymlinks(),
  sandbox: sandbox(),
});

export const WireFsGetMetadataParams = struct('WireFsGetMetadataParams', {
  path: pathUri(),
  followSymlinks: followSymlinks(),
  sandbox: sandbox(),
});

export const WireFsCanonicalizeParams = struct('WireFsCanonicalizeParams', { path: pathUri(), sandbox: sandbox() });

export const WireFsReadDirectoryParams = struct('WireFsReadDirectoryParams', { path: pathUri(), sandbox: sandbox() });

export const WalkOptions = struct('WalkOptions', {
  maxDepth: usize(),
  maxDirectories: usize(),
  maxEntries: usize(),
  followDirectorySymlinks: bool(),
  pruneHiddenDirectories: withDefault(bool(), false),
});

export const WireFsWalkParams = struct('WireFsWalkParams', { path: pathUri(), options: WalkOptions, sandbox: sandbox() });

export const WireFsRemoveParams = struct('WireFsRemoveParams', {
  path: pathUri(),
  recursive: option(bool()),
  force: option(bool()),
  followSymlinks: followSymlinks(),
  sandbox: sandbox(),
});

export const WireFsCopyParams = struct('WireFsCopyParams', {
  sourcePath: pathUri(),
  destinationPath: pathUri(),
  recursive: bool(),
  sandbox: sandbox(),
});

export const WireFsOpenParams = struct('WireFsOpenParams', {
  handleId: string(),
  path: pathUri(),
  mode: withDefault(unitEnum(['read', 'replace'] as const), 'read'),
  sandbox: sandbox(),
});

export const FsReadBlockParams = struct('FsReadBlockParams', { handleId: string(), offset: u64Big(), len: usize() });

export const FsWriteBlockParams = struct('FsWriteBlockParams', { handleId: string(), offset: u64Big(), chunk: base64Bytes() });

export const FsCloseParams = struct('FsCloseParams', { handleId: string() });

export const FsWatchMissingParams = struct('FsWatchMissingParams', {
  watchId: u64Big(),
  missing: seq(pathUri()),
  present: option(pathUri()),
});

// ---------------------------------------------------------------------------------------------
// Sandbox

/**
 * Refuses a sandbox that restricts file access (exec-desk cannot confine it); anything else runs
 * directly. The network part of a policy cannot be violated by a file operation.
 */
function checkSandbox(request: SandboxRequest | null, what: string): void {
  if (!request) return;
  const permissions = request.permissions as PermissionProfile;
  const fileOnly: PermissionProfile = permissions.type === 'disabled' ? permissions : { ...permissions, network: 'enabled' };
  assertSandboxEnforceable({ ...request, permissions: fileOnly }, what);
}

// ---------------------------------------------------------------------------------------------
// Connection state

const HANDLES = Symbol('fs.handles');
const WATCH = Symbol('fs.watchMissing');

function handlesOf(connection: ConnectionScope): FileHandleTable {
  let table = connection.state.get(HANDLES) as FileHandleTable | undefined;
  if (!table) {
    const created = new FileHandleTable();
    connection.state.set(HANDLES, created);
    connection.onClose(() => created.dispose());
    table = created;
  }
  return table;
}

/** `watchId` is a u64 echoed in fs/missingChanged; the notification encoder writes bigints exactly. */
function watchIdForWire(watchId: bigint): number | bigint {
  return watchId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(watchId) : watchId;
}

function watchSlotOf(connection: ConnectionScope): MissingWatchSlot {
  let slot = connection.state.get(WATCH) as MissingWatchSlot | undefined;
  if (!slot) {
    const created = new MissingWatchSlot((watchId) => connection.notify(Notification.FsMissingChanged, { watchId: watchIdForWire(watchId) }));
    connection.state.set(WATCH, created);
    connection.onClose(() => created.dispose());
    slot = created;
  }
  return slot;
}

// ---------------------------------------------------------------------------------------------
// Methods

/** A method whose handler failures are fs errors. */
function fsMethod<D extends Decoder<any>>(
  name: string,
  decoder: D,
  handle: (params: Infer<D>, context: Parameters<MethodSpec['handle']>[1]) => Promise<unknown>,
): [string, MethodSpec] {
  return [
    name,
    {
      decode: (params) => decodeParams(decoder, params),
      handle: async (params: Infer<D>, context) => {
        try {
          return await handle(params, context);
        } catch (err) {
          throw toRpcError(err);
        }
      },
    },
  ];
}

function path(uri: PathUri): string {
  return nativePath(uri);
}

export const fsMethods: Array<[string, MethodSpec]> = [
  fsMethod(Method.FsReadFile, WireFsReadFileParams, async (p) => {
    checkSandbox(p.sandbox, 'read the file');
    return readFileResult(await readWholeFile(path(p.path), p.followSymlinks ?? true));
  }),

  fsMethod(Method.FsWriteFile, WireFsWriteFileParams, async (p) => {
    checkSandbox(p.sandbox, 'write the file');
    let data: Buffer;
    try {
      data = decodeBase64(p.dataBase64);
    } catch (err) {
      if (err instanceof Base64Error) throw new RpcError(ErrorCode.InvalidRequest, `fs/writeFile requires valid base64 dataBase64: ${err.message}`);
      throw err;
    }
    await writeFileData(path(p.path), data, p.followSymlinks ?? true);
    return {};
  }),

  fsMethod(Method.FsCreateDirectory, WireFsCreateDirectoryParams, async (p) => {
    checkSandbox(p.sandbox, 'create the directory');
    await createDirectory(path(p.path), p.recursive ?? true, p.followSymlinks ?? true);
    return {};
  }),

  fsMethod(Method.FsGetMetadata, WireFsGetMetadataParams, async (p) => {
    checkSandbox(p.sandbox, 'read the metadata');
    return getMetadata(path(p.path), p.followSymlinks ?? true);
  }),

  fsMethod(Method.FsCanonicalize, WireFsCanonicalizeParams, async (p) => {
    checkSandbox(p.sandbox, 'canonicalize the path');
    return { path: toPathUri(await canonicalize(path(p.path))) };
  }),

  fsMethod(Method.FsReadDirectory, WireFsReadDirectoryParams, async (p) => {
    checkSandbox(p.sandbox, 'read the directory');
    return { entries: await readDirectory(path(p.path)) };
  }),

  fsMethod(Method.FsWalk, WireFsWalkParams, async (p, { signal }) => {
    checkSandbox(p.sandbox, 'walk the directory');
    validateWalkLimits(p.options);
    return walk(path(p.path), p.options, signal);
  }),

  fsMethod(Method.FsRemove, WireFsRemoveParams, async (p, { signal }) => {
    checkSandbox(p.sandbox, 'remove the path');
    await removePath(path(p.path), p.recursive ?? true, p.force ?? true, p.followSymlinks ?? true, signal);
    return {};
  }),

  fsMethod(Method.FsCopy, WireFsCopyParams, async (p, { signal }) => {
    checkSandbox(p.sandbox, 'copy');
    const source = path(p.sourcePath);
    const destination = path(p.destinationPath);
    await copyPath(source, destination, p.recursive, signal);
    return {};
  }),

  fsMethod(Method.FsOpen, WireFsOpenParams, async (p, { connection }) => {
    checkSandbox(p.sandbox, 'open the file');
    return handlesOf(connection).open(p.handleId, () => path(p.path), p.mode);
  }),

  fsMethod(Method.FsReadBlock, FsReadBlockParams, (p, { connection }) => handlesOf(connection).readBlock(p.handleId, p.offset, p.len)),

  fsMethod(Method.FsWriteBlock, FsWriteBlockParams, (p, { connection }) => handlesOf(connection).writeBlock(p.handleId, p.offset, p.chunk)),

  fsMethod(Method.FsClose, FsCloseParams, (p, { connection }) => handlesOf(connection).close(p.handleId)),

  fsMethod(Method.FsWatchMissing, FsWatchMissingParams, async (p, { connection }) => ({
    watching: await watchSlotOf(connection).watch({ watchId: p.watchId, missing: p.missing, present: p.present }),
  })),
];
