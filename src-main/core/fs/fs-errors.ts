/**
 * How filesystem failures reach the wire (local-protocol.md §7.1): every failure is a Rust
 * `io::Error` in the reference, answered with its `ErrorKind` class as the code and its
 * rendering as the message. OS errors go through the one errno table in `os-error.ts`; errors the
 * server makes itself (`path is not a regular file`, …) carry their kind explicitly.
 *
 *   NotFound                        → -32004
 *   InvalidInput, PermissionDenied  → -32600
 *   anything else                   → -32603
 */
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { lookupOsError, osErrorKind, osErrorMessage, type OsErrorKind } from '../os-error.ts';
import { PathUriError } from '../protocol/path-uri.ts';

/** The JSON-RPC code for an io::ErrorKind class. */
export function codeForKind(kind: OsErrorKind): number {
  switch (kind) {
    case 'NotFound':
      return ErrorCode.NotFound;
    case 'InvalidInput':
    case 'PermissionDenied':
      return ErrorCode.InvalidRequest;
    default:
      return ErrorCode.Internal;
  }
}

/** An `io::Error::new(kind, message)` made by the server (not an errno). */
export class FsFailure extends Error {
  constructor(
    readonly kind: OsErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'FsFailure';
  }
}

/** A Node-style system error for `code` (`ENOTDIR`, …), for failures exec-desk detects itself. */
export function osError(code: string): NodeJS.ErrnoException {
  const info = lookupOsError(code);
  const err = new Error(info ? `${code}: ${info.text}` : code) as NodeJS.ErrnoException;
  err.code = code;
  if (info) err.errno = -info.errno;
  return err;
}

/** True for errors that carry an errno (Node system errors and `osError`). */
export function isOsError(err: unknown): err is NodeJS.ErrnoException {
  return (
    typeof err === 'object' &&
    err !== null &&
    (lookupOsError(err as NodeJS.ErrnoException) !== undefined || typeof (err as NodeJS.ErrnoException).errno === 'number')
  );
}

/** True when `err` is the OS error `code` (e.g. `ENOENT`). */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** The message the reference renders for an io::Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof FsFailure || err instanceof RpcError || err instanceof PathUriError) return err.message;
  return osErrorMessage(err as NodeJS.ErrnoException);
}

/**
 * Maps anything a filesystem handler throws to the reference's error response. A path URI that is
 * valid but not a path on this host (`file://host/x`, `file:///C:/x`) is `-32600 '<uri>' is invalid
 * on 'linux'`, as the fs methods of 0.169.0 answer it.
 */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof FsFailure) return new RpcError(codeForKind(err.kind), err.message);
  if (err instanceof PathUriError) return new RpcError(ErrorCode.InvalidRequest, err.message);
  if (isOsError(err)) return new RpcError(codeForKind(osErrorKind(err)), osErrorMessage(err));
  return RpcError.internal(err instanceof Error ? err.message : String(err));
}
