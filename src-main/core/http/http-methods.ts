/** The http/request (local-protocol.md §8). */
import type { MethodSpec } from '../rpc/method-table.ts';

export const httpMethods: Array<[string, MethodSpec]> = [];
