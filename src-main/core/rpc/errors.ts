/** JSON-RPC error codes used by the reference exec-server (local-protocol.md §1.6). Named once here. */
export const ErrorCode = {
  /** Malformed message (with id -1), lifecycle violations, unknown ids, most semantic validation. */
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  /** Params failed to deserialize, or some semantic validation. */
  InvalidParams: -32602,
  /** Spawn failures, unclassified OS errors, transport failures. */
  Internal: -32603,
  /** Filesystem NotFound and unknown file handles. */
  NotFound: -32004,
  /** Resume of a session that is attached to another connection. */
  SessionAttached: -32010,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error that a handler throws to answer a request with a JSON-RPC error object. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }

  static invalidRequest(message: string): RpcError {
    return new RpcError(ErrorCode.InvalidRequest, message);
  }

  static invalidParams(message: string): RpcError {
    return new RpcError(ErrorCode.InvalidParams, message);
  }

  static internal(message: string): RpcError {
    return new RpcError(ErrorCode.Internal, message);
  }

  static notFound(message: string): RpcError {
    return new RpcError(ErrorCode.NotFound, message);
  }
}
