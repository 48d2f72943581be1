/** The environmentConfig/read and capability discovery (local-protocol.md §10.3–§10.5). */
import type { MethodSpec } from '../rpc/method-table.ts';
import { Method } from '../protocol/methods.ts';
import { PathUriError, type PathUri } from '../protocol/path-uri.ts';
import { assertSandboxEnforceable, permissionProfile, SandboxContext, type SandboxRequest } from '../protocol/sandbox.ts';
import { bool, custom, decodeParams, fail, invalidType, option, pathUri, seq, string, struct, unitEnum, withDefault } from '../protocol/serde.ts';
import { defaultCodexHost, type CodexHost } from './codex-home.ts';
import { readEnvironmentConfig } from './config-read.ts';
import { discoverCapabilityRoots, MAX_ROOTS_PER_REQUEST } from './capability-discovery.ts';
import { discoverCapabilitiesV2 } from './capability-discovery-v2.ts';
import { RpcError } from '../rpc/errors.ts';

export const EnvironmentConfigReadParams = struct('EnvironmentConfigReadParams', {
  cwd: pathUri(),
  configPaths: seq(seq(string())),
  requirementsPaths: seq(seq(string())),
});

const CapabilityRootDiscoverRequest = struct('WireCapabilityRootDiscoverRequest', {
  id: string(),
  path: pathUri(),
  sandbox: option(SandboxContext),
});

export const CapabilityRootsDiscoverParams = struct('WireCapabilityRootsDiscoverParams', {
  roots: seq(CapabilityRootDiscoverRequest),
});

/** The sandbox of a V2 request (`FileSystemSandboxContext`, not the process/fs wire shape). */
const FileSystemSandboxContext = struct('FileSystemSandboxContext', {
  permissions: permissionProfile(),
  sandboxOverride: withDefault(unitEnum(['noOverride', 'escalatedSandboxWithRestrictions', 'bypassSandboxFirstAttempt'] as const), 'noOverride'),
  windowsSandboxLevel: unitEnum(['disabled', 'restricted-token', 'elevated', 'mxc'] as const),
  cwd: pathUri(),
  workspaceRoots: option(seq(pathUri())),
  userHomeDir: option(pathUri()),
  temporaryDirectories: option(seq(pathUri())),
  windowsSandboxProxySettingsMode: option(custom('string or map', (v) => (typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)) ? v : invalidType(v, 'string or map')))),
  useLegacyLandlock: option(bool()),
});

export const DiscoverV2Params = struct('DiscoverV2CapabilitiesRequest', {
  cwd: pathUri(),
  sandbox: withDefault(option(FileSystemSandboxContext), null),
});

/** A request-level path that must name a path on this host (`-32602 '<uri>' is invalid on 'linux'`). */
function nativePath(uri: PathUri): string {
  try {
    return uri.toNativePath();
  } catch (err) {
    if (err instanceof PathUriError) fail(err.message);
    throw err;
  }
}

export function configMethodsFor(host: () => CodexHost = defaultCodexHost): Array<[string, MethodSpec]> {
  return [
    [
      Method.EnvironmentConfigRead,
      {
        decode: (params) => {
          const decoded = decodeParams(EnvironmentConfigReadParams, params);
          if (decoded.configPaths.length + decoded.requirementsPaths.length === 0) fail('at least one config or requirements path is required');
          for (const path of [...decoded.configPaths, ...decoded.requirementsPaths]) {
            if (path.length === 0) fail('TOML paths must contain at least one key segment');
          }
          return { cwd: nativePath(decoded.cwd), configPaths: decoded.configPaths, requirementsPaths: decoded.requirementsPaths };
        },
        handle: (params: { cwd: string; configPaths: string[][]; requirementsPaths: string[][] }) => readEnvironmentConfig(params, host()),
      },
    ],
    [
      Method.CapabilityRootsDiscoverV1,
      {
        decode: (params) => decodeParams(CapabilityRootsDiscoverParams, params),
        handle: (params: ReturnType<typeof CapabilityRootsDiscoverParams.decode>) => {
          if (params.roots.length > MAX_ROOTS_PER_REQUEST) {
            throw RpcError.invalidRequest(`capability root discovery accepts at most ${MAX_ROOTS_PER_REQUEST} roots`);
          }
          for (const root of params.roots) assertSandboxEnforceable(root.sandbox, 'discover capabilities');
          return discoverCapabilityRoots(params.roots.map((root) => ({ id: root.id, path: root.path })));
        },
      },
    ],
    [
      Method.CapabilitiesDiscoverV2,
      {
        decode: (params) => decodeParams(DiscoverV2Params, params),
        handle: (params: ReturnType<typeof DiscoverV2Params.decode>) => {
          assertSandboxEnforceable(params.sandbox as SandboxRequest | null, 'discover capabilities');
          return discoverCapabilitiesV2(host());
        },
      },
    ],
  ];
}

export const configMethods: Array<[string, MethodSpec]> = configMethodsFor();
