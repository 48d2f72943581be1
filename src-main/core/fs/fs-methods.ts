/** The filesystem methods (local-protocol.md §7). */
import type { MethodSpec } from '../rpc/method-table.ts';

export const fsMethods: Array<[string, MethodSpec]> = [];
