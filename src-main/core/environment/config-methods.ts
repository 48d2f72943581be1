/** The environmentConfig/read and capability discovery (local-protocol.md §10.3–§10.5). */
import type { MethodSpec } from '../rpc/method-table.ts';

export const configMethods: Array<[string, MethodSpec]> = [];
