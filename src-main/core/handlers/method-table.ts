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

export function buildMethodTable(): MethodTable {
  return new Map<string, MethodSpec>([
    ...environmentMethods,
    ...processMethods,
    ...fsMethods,
    ...httpMethods,
    ...configMethods,
  ]);
}
