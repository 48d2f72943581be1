/** Every method exec-desk serves, and the initialize params decoder. */
import type { MethodSpec, MethodTable } from '../rpc/method-table.ts';
import type { InitializeParams } from '../rpc/connection-processor.ts';
import { Method } from '../protocol/methods.ts';
import { decodeParams, option, string, struct, unit, withDefault } from '../protocol/serde.ts';
import { environmentInfo } from '../environment/environment-info.ts';
import { processMethods } from './process-methods.ts';
import { fsMethods } from '../fs/fs-methods.ts';
import { httpMethods } from '../http/http-methods.ts';
import { configMethods } from '../environment/config-methods.ts';
import { RpcError, ErrorCode } from '../rpc/errors.ts';
import { methodNotFoundMessage } from '../protocol/methods.ts';

const InitializeParamsSchema = struct('InitializeParams', {
  clientName: string(),
  resumeSessionId: withDefault(option(string()), null),
});

export function decodeInitializeParams(params: unknown): InitializeParams {
  return decodeParams(InitializeParamsSchema, params);
}

const environmentMethods: Array<[string, MethodSpec]> = [
  [Method.EnvironmentInfo, { decode: (p) => decodeParams(unit(), p), handle: () => environmentInfo() }],
  [Method.EnvironmentStatus, { decode: (p) => decodeParams(unit(), p), handle: () => ({ status: 'ready' }) }],
];

/**
 * Methods of the 0.169.0 inventory that exec-desk does not serve yet (filesystem, HTTP, config
 * and capability discovery). They pass the lifecycle gate as the reference's do, then answer
 * -32601 with the reference's own "not implemented" text; their capability flags stay false.
 */
const NOT_YET_SERVED = [
  Method.FsReadFile,
  Method.FsWriteFile,
  Method.FsCreateDirectory,
  Method.FsGetMetadata,
  Method.FsCanonicalize,
  Method.FsReadDirectory,
  Method.FsWalk,
  Method.FsRemove,
  Method.FsCopy,
  Method.FsOpen,
  Method.FsReadBlock,
  Method.FsWriteBlock,
  Method.FsClose,
  Method.FsWatchMissing,
  Method.HttpRequest,
  Method.EnvironmentConfigRead,
  Method.CapabilityRootsDiscoverV1,
  Method.CapabilitiesDiscoverV2,
];

function notYetServed(method: string): MethodSpec {
  return {
    decode: (params) => params,
    handle: () => {
      throw new RpcError(ErrorCode.MethodNotFound, methodNotFoundMessage(method));
    },
  };
}

export function buildMethodTable(): MethodTable {
  return new Map<string, MethodSpec>([
    ...NOT_YET_SERVED.map((method): [string, MethodSpec] => [method, notYetServed(method)]),
    // Served methods come later and replace their not-yet-served entry.
    ...environmentMethods,
    ...processMethods,
    ...fsMethods,
    ...httpMethods,
    ...configMethods,
  ]);
}
