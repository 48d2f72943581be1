/**
 * OS errors rendered the way the reference exec-server renders a Rust `io::Error`:
 * `<strerror text> (os error <errno>)`, plus the Rust `ErrorKind` the error decodes to.
 *
 * The texts are musl's strerror texts, not glibc's: the reference Linux binary is a static musl
 * build, and its wire messages prove it (`Symbolic link loop (os error 40)`, `Filename too long
 * (os error 36)`, `I/O error (os error 5)`; glibc would say `Too many levels of symbolic links`,
 * `File name too long`, `Input/output error`). For the common errors the two libcs agree
 * (`No such file or directory`, `Permission denied`, `Exec format error`, ...).
 * Errno numbers come from `os.constants.errno`, so they are the host's.
 */
import { constants } from 'node:os';

/** Rust `std::io::ErrorKind` names that `decode_error_kind` produces on Unix. */
export type RustErrorKind =
  | 'NotFound'
  | 'PermissionDenied'
  | 'InvalidInput'
  | 'AlreadyExists'
  | 'NotADirectory'
  | 'IsADirectory'
  | 'DirectoryNotEmpty'
  | 'ReadOnlyFilesystem'
  | 'FilesystemLoop'
  | 'StaleNetworkFileHandle'
  | 'StorageFull'
  | 'NotSeekable'
  | 'FilesystemQuotaExceeded'
  | 'FileTooLarge'
  | 'ResourceBusy'
  | 'ExecutableFileBusy'
  | 'Deadlock'
  | 'CrossesDevices'
  | 'TooManyLinks'
  | 'InvalidFilename'
  | 'ArgumentListTooLong'
  | 'Interrupted'
  | 'Unsupported'
  | 'OutOfMemory'
  | 'InProgress'
  | 'WouldBlock'
  | 'BrokenPipe'
  | 'TimedOut'
  | 'ConnectionRefused'
  | 'ConnectionReset'
  | 'ConnectionAborted'
  | 'HostUnreachable'
  | 'NetworkUnreachable'
  | 'NetworkDown'
  | 'NotConnected'
  | 'AddrInUse'
  | 'AddrNotAvailable'
  | 'Uncategorized';

/** The coarse class later code maps to a JSON-RPC error code (local-protocol.md §1.6, §7.1). */
export type OsErrorKind = 'NotFound' | 'PermissionDenied' | 'InvalidInput' | 'Other';

export interface OsErrorInfo {
  /** Node's code, e.g. `ENOENT`. */
  code: string;
  /** Positive errno on this host. */
  errno: number;
  /** The strerror text, e.g. `No such file or directory`. */
  text: string;
  rustKind: RustErrorKind;
}

// [code, musl strerror text, Rust ErrorKind]
const TABLE: ReadonlyArray<readonly [string, string, RustErrorKind]> = [
  ['EPERM', 'Operation not permitted', 'PermissionDenied'],
  ['ENOENT', 'No such file or directory', 'NotFound'],
  ['ESRCH', 'No such process', 'Uncategorized'],
  ['EINTR', 'Interrupted system call', 'Interrupted'],
  ['EIO', 'I/O error', 'Uncategorized'],
  ['ENXIO', 'No such device or address', 'Uncategorized'],
  ['E2BIG', 'Argument list too long', 'ArgumentListTooLong'],
  ['ENOEXEC', 'Exec format error', 'Uncategorized'],
  ['EBADF', 'Bad file descriptor', 'Uncategorized'],
  ['ECHILD', 'No child process', 'Uncategorized'],
  ['EAGAIN', 'Resource temporarily unavailable', 'WouldBlock'],
  ['EWOULDBLOCK', 'Resource temporarily unavailable', 'WouldBlock'],
  ['ENOMEM', 'Out of memory', 'OutOfMemory'],
  ['EACCES', 'Permission denied', 'PermissionDenied'],
  ['EFAULT', 'Bad address', 'Uncategorized'],
  ['ENOTBLK', 'Block device required', 'Uncategorized'],
  ['EBUSY', 'Resource busy', 'ResourceBusy'],
  ['EEXIST', 'File exists', 'AlreadyExists'],
  ['EXDEV', 'Cross-device link', 'CrossesDevices'],
  ['ENODEV', 'No such device', 'Uncategorized'],
  ['ENOTDIR', 'Not a directory', 'NotADirectory'],
  ['EISDIR', 'Is a directory', 'IsADirectory'],
  ['EINVAL', 'Invalid argument', 'InvalidInput'],
  ['ENFILE', 'Too many open files in system', 'Uncategorized'],
  ['EMFILE', 'No file descriptors available', 'Uncategorized'],
  ['ENOTTY', 'Not a tty', 'Uncategorized'],
  ['ETXTBSY', 'Text file busy', 'ExecutableFileBusy'],
  ['EFBIG', 'File too large', 'FileTooLarge'],
  ['ENOSPC', 'No space left on device', 'StorageFull'],
  ['ESPIPE', 'Invalid seek', 'NotSeekable'],
  ['EROFS', 'Read-only file system', 'ReadOnlyFilesystem'],
  ['EMLINK', 'Too many links', 'TooManyLinks'],
  ['EPIPE', 'Broken pipe', 'BrokenPipe'],
  ['EDOM', 'Domain error', 'Uncategorized'],
  ['ERANGE', 'Result not representable', 'Uncategorized'],
  ['EDEADLK', 'Resource deadlock would occur', 'Deadlock'],
  ['ENAMETOOLONG', 'Filename too long', 'InvalidFilename'],
  ['ENOLCK', 'No locks available', 'Uncategorized'],
  ['ENOSYS', 'Function not implemented', 'Unsupported'],
  ['ENOTEMPTY', 'Directory not empty', 'DirectoryNotEmpty'],
  ['ELOOP', 'Symbolic link loop', 'FilesystemLoop'],
  ['ENOMSG', 'No message of desired type', 'Uncategorized'],
  ['EIDRM', 'Identifier removed', 'Uncategorized'],
  ['ENOSTR', 'Device not a stream', 'Uncategorized'],
  ['ENODATA', 'No data available', 'Uncategorized'],
  ['ETIME', 'Device timeout', 'Uncategorized'],
  ['ENOSR', 'Out of streams resources', 'Uncategorized'],
  ['ENOLINK', 'Link has been severed', 'Uncategorized'],
  ['EPROTO', 'Protocol error', 'Uncategorized'],
  ['EMULTIHOP', 'Multihop attempted', 'Uncategorized'],
  ['EBADMSG', 'Bad message', 'Uncategorized'],
  ['EOVERFLOW', 'Value too large for data type', 'Uncategorized'],
  ['EILSEQ', 'Illegal byte sequence', 'Uncategorized'],
  ['ENOTSOCK', 'Not a socket', 'Uncategorized'],
  ['EDESTADDRREQ', 'Destination address required', 'Uncategorized'],
  ['EMSGSIZE', 'Message too large', 'Uncategorized'],
  ['EPROTOTYPE', 'Protocol wrong type for socket', 'Uncategorized'],
  ['ENOPROTOOPT', 'Protocol not available', 'Uncategorized'],
  ['EPROTONOSUPPORT', 'Protocol not supported', 'Uncategorized'],
  ['ENOTSUP', 'Not supported', 'Unsupported'],
  ['EOPNOTSUPP', 'Not supported', 'Unsupported'],
  ['EAFNOSUPPORT', 'Address family not supported by protocol', 'Uncategorized'],
  ['EADDRINUSE', 'Address in use', 'AddrInUse'],
  ['EADDRNOTAVAIL', 'Address not available', 'AddrNotAvailable'],
  ['ENETDOWN', 'Network is down', 'NetworkDown'],
  ['ENETUNREACH', 'Network unreachable', 'NetworkUnreachable'],
  ['ENETRESET', 'Connection reset by network', 'Uncategorized'],
  ['ECONNABORTED', 'Connection aborted', 'ConnectionAborted'],
  ['ECONNRESET', 'Connection reset by peer', 'ConnectionReset'],
  ['ENOBUFS', 'No buffer space available', 'Uncategorized'],
  ['EISCONN', 'Socket is connected', 'Uncategorized'],
  ['ENOTCONN', 'Socket not connected', 'NotConnected'],
  ['ETIMEDOUT', 'Operation timed out', 'TimedOut'],
  ['ECONNREFUSED', 'Connection refused', 'ConnectionRefused'],
  ['EHOSTDOWN', 'Host is down', 'Uncategorized'],
  ['EHOSTUNREACH', 'Host is unreachable', 'HostUnreachable'],
  ['EALREADY', 'Operation already in progress', 'Uncategorized'],
  ['EINPROGRESS', 'Operation in progress', 'InProgress'],
  ['ESTALE', 'Stale file handle', 'StaleNetworkFileHandle'],
  ['EDQUOT', 'Quota exceeded', 'FilesystemQuotaExceeded'],
  ['ECANCELED', 'Operation canceled', 'Uncategorized'],
];

const errnoNumbers = constants.errno as Record<string, number | undefined>;
const byCode = new Map<string, OsErrorInfo>();
const byErrno = new Map<number, OsErrorInfo>();
for (const [code, text, rustKind] of TABLE) {
  const errno = errnoNumbers[code];
  if (errno === undefined) continue; // not defined on this host
  const info: OsErrorInfo = { code, errno, text, rustKind };
  byCode.set(code, info);
  if (!byErrno.has(errno)) byErrno.set(errno, info); // aliases (EWOULDBLOCK, EOPNOTSUPP) keep the first
}

/** What a thrown value can carry: a Node system error, an errno code string, or an errno number. */
export type OsErrorLike = { code?: unknown; errno?: unknown; message?: unknown } | string | number | null | undefined;

/** Looks an error up by its Node code (`ENOENT`) first, then by its errno (either sign). */
export function lookupOsError(err: OsErrorLike): OsErrorInfo | undefined {
  if (typeof err === 'string') return byCode.get(err);
  if (typeof err === 'number') return byErrno.get(Math.abs(err));
  if (err === null || err === undefined || typeof err !== 'object') return undefined;
  if (typeof err.code === 'string') {
    const info = byCode.get(err.code);
    if (info) return info;
  }
  if (typeof err.errno === 'number') return byErrno.get(Math.abs(err.errno));
  return undefined;
}

/**
 * The Rust rendering of an OS error: `No such file or directory (os error 2)`. An errno outside
 * the table renders as musl does (`No error information (os error N)`); a value that carries no OS
 * error at all gives its own message.
 */
export function osErrorMessage(err: OsErrorLike): string {
  const info = lookupOsError(err);
  if (info) return `${info.text} (os error ${info.errno})`;
  const errno =
    typeof err === 'number' ? err : typeof err === 'object' && err !== null && typeof err.errno === 'number' ? err.errno : undefined;
  if (errno !== undefined && Number.isInteger(errno) && errno !== 0) return `No error information (os error ${Math.abs(errno)})`;
  if (typeof err === 'object' && err !== null && typeof err.message === 'string') return err.message;
  return String(err);
}

/** The Rust `ErrorKind` the error decodes to (`Uncategorized` when unknown). */
export function osErrorRustKind(err: OsErrorLike): RustErrorKind {
  return lookupOsError(err)?.rustKind ?? 'Uncategorized';
}

/** The coarse class: NotFound / PermissionDenied / InvalidInput, everything else Other. */
export function osErrorKind(err: OsErrorLike): OsErrorKind {
  const kind = osErrorRustKind(err);
  return kind === 'NotFound' || kind === 'PermissionDenied' || kind === 'InvalidInput' ? kind : 'Other';
}
