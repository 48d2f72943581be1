/**
 * Path helpers for the filesystem methods: URI → host path, file names as the reference shows
 * them, and the ancestor check that stands in for the reference's `openat(O_NOFOLLOW|O_DIRECTORY)`
 * walk when `followSymlinks` is false.
 *
 * Host paths are surrogateescape strings (see path-uri.ts): bytes that are not UTF-8 travel as
 * U+DC80–U+DCFF and `fsPath()` turns them back into bytes for node:fs.
 */
import { lstat } from 'node:fs/promises';
import { fsPath, nativePathFromBytes, nativePathToBytes, type PathUri } from '../protocol/path-uri.ts';
import { osError } from './fs-errors.ts';

/** The host path of a URI; throws PathUriError ('native') for URIs that name no path here. */
export function nativePath(uri: PathUri): string {
  return uri.toNativePath();
}

/** `parent/name` for an absolute, normalized parent. */
export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The parent of an absolute, normalized path (null for `/`). */
export function parentPath(path: string): string | null {
  if (path === '/') return null;
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** The last component of an absolute, normalized path (`` for `/`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const lossyDecoder = new TextDecoder('utf-8');

/** Rust's `to_string_lossy()` of a file name: U+FFFD for each maximal invalid subsequence. */
export function lossyName(name: Buffer | string): string {
  return typeof name === 'string' ? name : lossyDecoder.decode(name);
}

/** A file name read with `encoding: 'buffer'` as a host-path component (lossless). */
export function nativeName(name: Buffer | string): string {
  return typeof name === 'string' ? name : nativePathFromBytes(name);
}

/** Rust's ordering of `String`s: by UTF-8 bytes, i.e. by code point (not UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP code point in code-point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The reference opens every ancestor of a no-follow path with `O_NOFOLLOW|O_DIRECTORY`: a missing
 * ancestor is ENOENT, a symlink or a non-directory is ENOTDIR (observed: `link-to-dir/a.txt` and
 * `file.txt/x` → `Not a directory (os error 20)`). The last component is the caller's business.
 * The kernel enforces the last component (O_NOFOLLOW); the ancestors are checked here with lstat.
 */
export async function checkNoFollowAncestors(path: string): Promise<void> {
  const parts = path.split('/').filter((p) => p !== '');
  let prefix = '';
  for (let i = 0; i < parts.length - 1; i++) {
    prefix += `/${parts[i]}`;
    const st = await lstat(fsPath(prefix));
    if (st.isSymbolicLink() || !st.isDirectory()) throw osError('ENOTDIR');
  }
}

/** True when `ancestor` is `path` itself or one of its ancestors (both absolute, normalized). */
export function isSelfOrAncestor(ancestor: string, path: string): boolean {
  if (ancestor === path) return true;
  if (ancestor === '/') return path.startsWith('/');
  return path.startsWith(`${ancestor}/`);
}

/** Bytes `Url::from_file_path` leaves as they are in a path segment (see toPathUri). */
const PLAIN_SEGMENT = /^[A-Za-z0-9!$&'()*+,\-.:;=@[\]^_|~]*$/;
const HEX = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);
const KEEP_BYTE = (() => {
  const keep = new Uint8Array(256);
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$&'()*+,-.:;=@[]^_|~";
  for (let i = 0; i < chars.length; i++) keep[chars.charCodeAt(i)] = 1;
  return keep;
})();

/**
 * `toPathUri(joinPath(dir, name))` given `dirUri = toPathUri(dir)`, for a directory entry's name
 * (never `.`/`..`, never containing `/` or NUL): the same text, without re-encoding the prefix.
 */
export function childUri(dirUri: string, name: string): string {
  const sep = dirUri.endsWith('/') ? '' : '/';
  if (PLAIN_SEGMENT.test(name)) return dirUri + sep + name;
  let out = '';
  for (const b of nativePathToBytes(name)) out += KEEP_BYTE[b] === 1 ? String.fromCharCode(b) : HEX[b];
  return dirUri + sep + out;
}
