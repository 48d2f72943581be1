/**
 * The `sandbox` member of process and filesystem requests (local-protocol.md §9): decoded with
 * the reference's serde texts, then judged. exec-desk does not (yet) confine processes, so a
 * policy that asks for no restriction runs directly, and a policy that restricts the file system
 * or the network is refused with a clear error — never run unconfined behind the caller's back.
 */
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { inputKeyOrder, JsonFloat } from '../rpc/json-text.ts';
import { fail, option, pathUri, seq, struct, bool, custom, unitEnum, json } from './serde.ts';

/**
 * serde renders values buffered for an internally tagged enum differently from plain values:
 * integers as ``integer `5` ``, floats as ``floating point `1.5` ``, null as `unit value`.
 */
function describeContent(value: unknown): string {
  if (value === null || value === undefined) return 'unit value';
  if (typeof value === 'number' || typeof value === 'bigint') return Number.isInteger(Number(value)) ? `integer \`${value}\`` : `floating point \`${value}\``;
  if (value instanceof JsonFloat) return `floating point \`${value.text}\``;
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'sequence';
  return 'map';
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonFloat);
}

function contentTypeError(value: unknown, expected: string): never {
  fail(`invalid type: ${describeContent(value)}, expected ${expected}`);
}

/** A unit-variant enum whose value sits inside tagged content (numbers render as integers). */
function contentEnum<const V extends readonly string[]>(variants: V) {
  const plain = unitEnum(variants);
  return (value: unknown): V[number] => {
    if (typeof value !== 'string' && !isMap(value)) contentTypeError(value, 'string or map');
    return plain.decode(value);
  };
}

/**
 * An internally tagged enum (`{"type": "<variant>", ...fields}`). `variants` maps each tag to
 * the decoder of the remaining fields (in declaration order, checked in input order).
 */
function taggedEnum<T>(name: string, variants: Record<string, (content: Record<string, unknown>) => T>) {
  const tags = Object.keys(variants);
  const expected = tags.length === 2 ? `expected \`${tags[0]}\` or \`${tags[1]}\`` : `expected one of ${tags.map((t) => `\`${t}\``).join(', ')}`;
  return (value: unknown): T => {
    if (!isMap(value)) contentTypeError(value, `internally tagged enum ${name}`);
    if (!Object.hasOwn(value, 'type')) fail('missing field `type`');
    const tag = value.type;
    if (typeof tag !== 'string') fail(`invalid type: ${typeof tag === 'number' || tag instanceof JsonFloat ? 'number' : describeContent(tag)}, expected variant identifier`);
    const variant = variants[tag];
    if (!variant) fail(`unknown variant \`${tag}\`, ${expected}`);
    return variant(value);
  };
}

/** Fields of a tagged variant: required ones must be present; each is decoded in input order. */
function contentFields(content: Record<string, unknown>, fields: Record<string, { required: boolean; decode: (v: unknown) => unknown }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of inputKeyOrder(content)) {
    const field = fields[key];
    if (field) out[key] = field.decode(content[key]);
  }
  for (const [key, field] of Object.entries(fields)) {
    if (!(key in out) && field.required) fail(`missing field \`${key}\``);
  }
  return out;
}

export type NetworkAccess = 'restricted' | 'enabled';
const decodeNetwork = contentEnum(['restricted', 'enabled'] as const);
const decodeAccess = contentEnum(['read', 'write', 'deny', 'none'] as const);

const decodeFileSystemPath = taggedEnum('ExecFileSystemPath', {
  path: (c) => contentFields(c, { path: { required: true, decode: (v) => (typeof v === 'string' ? pathUri().decode(v) : contentTypeError(v, 'a string')) } }),
  glob_pattern: (c) => contentFields(c, { pattern: { required: true, decode: (v) => (typeof v === 'string' ? v : contentTypeError(v, 'a string')) } }),
  special: (c) => contentFields(c, { value: { required: true, decode: (v) => v } }),
});

const decodeEntry = (value: unknown) => {
  if (!isMap(value)) contentTypeError(value, 'struct ExecFileSystemSandboxEntry');
  return contentFields(value, { path: { required: true, decode: decodeFileSystemPath }, access: { required: true, decode: decodeAccess } });
};

export type FileSystemPermissions = { type: 'restricted'; entryCount: number } | { type: 'unrestricted' };

const decodeFileSystem = taggedEnum<FileSystemPermissions>('ExecManagedFileSystemPermissions', {
  restricted: (c) => {
    const fields = contentFields(c, {
      entries: {
        required: true,
        decode: (v) => (Array.isArray(v) ? v.map(decodeEntry) : contentTypeError(v, 'a sequence')),
      },
      glob_scan_max_depth: { required: false, decode: (v) => v },
    });
    return { type: 'restricted', entryCount: (fields.entries as unknown[]).length };
  },
  unrestricted: () => ({ type: 'unrestricted' }),
});

export type PermissionProfile =
  | { type: 'managed'; fileSystem: FileSystemPermissions; network: NetworkAccess }
  | { type: 'disabled' }
  | { type: 'external'; network: NetworkAccess };

const decodePermissions = taggedEnum<PermissionProfile>('ExecPermissionProfile', {
  managed: (c) => {
    const f = contentFields(c, { file_system: { required: true, decode: decodeFileSystem }, network: { required: true, decode: decodeNetwork } });
    return { type: 'managed', fileSystem: f.file_system as FileSystemPermissions, network: f.network as NetworkAccess };
  },
  disabled: () => ({ type: 'disabled' }),
  external: (c) => {
    const f = contentFields(c, { network: { required: true, decode: decodeNetwork } });
    return { type: 'external', network: f.network as NetworkAccess };
  },
});

const PolicyContext = struct('WireFileSystemPolicyContext', {
  cwd: option(pathUri()),
  workspaceRoots: option(seq(pathUri())),
});

/** The `permissions` member (`ExecPermissionProfile`), for other sandbox context shapes. */
export function permissionProfile() {
  return custom('internally tagged enum ExecPermissionProfile', decodePermissions);
}

/** `WireFileSystemSandboxContext`, as 0.169.0 decodes it. */
export const SandboxContext = struct('WireFileSystemSandboxContext', {
  permissions: custom('internally tagged enum ExecPermissionProfile', decodePermissions),
  windowsSandboxLevel: unitEnum(['disabled', 'restricted-token', 'elevated', 'mxc'] as const),
  cwd: option(pathUri()),
  policyContext: option(PolicyContext),
  workspaceRoots: option(seq(pathUri())),
  userHomeDir: option(pathUri()),
  temporaryDirectories: option(seq(pathUri())),
  windowsSandboxProxySettingsMode: option(json()),
  useLegacyLandlock: option(bool()),
});

export type SandboxRequest = ReturnType<typeof SandboxContext.decode>;

/** Which restriction a policy asks for that exec-desk cannot enforce, or null if none. */
export function unenforceableRestriction(sandbox: SandboxRequest | null): string | null {
  if (!sandbox) return null;
  const permissions = sandbox.permissions as PermissionProfile;
  const restrictions: string[] = [];
  if (permissions.type === 'managed' && permissions.fileSystem.type === 'restricted') restrictions.push('restricted file system access');
  if (permissions.type !== 'disabled' && permissions.network === 'restricted') restrictions.push('restricted network access');
  return restrictions.length > 0 ? restrictions.join(' and ') : null;
}

/**
 * Refuses a request whose sandbox asks for restrictions exec-desk cannot apply. Policies that
 * restrict nothing (`disabled`, `external` with network enabled, `managed` + unrestricted file
 * system + network enabled) pass: they run exactly as an unsandboxed request would.
 */
export function assertSandboxEnforceable(sandbox: SandboxRequest | null, what: string): void {
  const restriction = unenforceableRestriction(sandbox);
  if (restriction === null) return;
  throw new RpcError(
    ErrorCode.InvalidRequest,
    `exec-desk cannot enforce the requested sandbox (${restriction}); refusing to ${what} without it`,
  );
}

