/**
 * `capabilities/discoverV2` (local-protocol.md §10.5): the executor's own installed plugins and
 * user-level skills, parsed, as the 0.169.0 binary reports them.
 *
 * Locations, in order: installed plugins from `<codexHome>/plugins/cache/<marketplace>/<plugin>/
 * <version>` (the active version: `local` if present, else the highest, semver-aware; sorted by
 * `plugin@marketplace`), then the standalone skill roots that exist: `<codexHome>/skills`
 * (`codex-home-skills`), `~/.agents/skills` (`user-agent-skills`), `/etc/codex/skills`
 * (`system-skills`). Each location is discovered like a V1 root; skills get their front matter
 * parsed (skills inside a plugin directory are named `<plugin>:<skill>`), invalid ones are dropped
 * and any problem in a location becomes one generic warning. The request's `cwd` is not used.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { fsPath, PathUri, toPathUri } from '../protocol/path-uri.ts';
import { type CodexHost, CodexHomeError, resolveCodexHome } from './codex-home.ts';
import { RpcError } from '../rpc/errors.ts';
import { type CapabilityRootDiscovery, type CapabilityTextFile, type DiscoveredPluginFiles, discoverRoot, walkTree } from './capability-discovery.ts';
import { parseSkillFrontmatter, parseSkillMetadataFile, sanitizeSingleLine, type SkillMetadata } from './skill-metadata.ts';
import { decodeUtf8 } from './rust-text.ts';
import { osErrorMessage } from '../os-error.ts';

const MAX_LOCATIONS = 512;
const MAX_CAPABILITIES = 2_048;
const MAX_WARNINGS = 64;
const MAX_QUALIFIED_NAME_LEN = 64 * 2 + 1;
const MAX_REMOTE_INSTALL_METADATA_BYTES = 16 * 1024;
const MAX_REMOTE_PLUGIN_ID_BYTES = 1024;
const REMOTE_PLUGIN_INSTALL_METADATA_FILE = '.codex-remote-plugin-install.json';
const DEFAULT_PLUGIN_VERSION = 'local';

const LOCATION_WARNING = 'some capability locations could not be resolved; discovery may be incomplete';
const METADATA_WARNING = 'some capability metadata could not be loaded; discovery may be incomplete';

export interface ExecutorSkill {
  name: string;
  description: string;
  shortDescription: string | null;
  path: string;
  discoveryRoot?: { id: string; path: string };
  dependencies: SkillMetadata['dependencies'];
  policy: SkillMetadata['policy'];
}

export interface ExecutorPlugin {
  id: string;
  displayName: string;
  remotePluginId: string | null;
  version: string;
  root: string;
  files: DiscoveredPluginFiles;
  skills: ExecutorSkill[];
}

export interface DiscoverV2Response {
  plugins: ExecutorPlugin[];
  skills: ExecutorSkill[];
  warnings: string[];
}

interface Location {
  root: string;
  plugin?: { id: string; version: string; remotePluginId: string | null };
  discoveryRootId?: string;
}

// ---------------------------------------------------------------------------------------------
// plugin cache

function validSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && /^[A-Za-z0-9._-]+$/.test(segment);
}

function validVersionSegment(version: string): boolean {
  return version !== '' && version !== '.' && version !== '..' && /^[A-Za-z0-9._+-]+$/.test(version);
}

interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string[];
  build: string;
}

const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

function parseSemver(text: string): SemVer | undefined {
  const m = SEMVER_RE.exec(text);
  if (!m) return undefined;
  const pre = m[4] === undefined ? [] : m[4].split('.');
  if (pre.some((p) => /^0\d+$/.test(p))) return undefined;
  return { major: BigInt(m[1]!), minor: BigInt(m[2]!), patch: BigInt(m[3]!), pre, build: m[5] ?? '' };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSemver(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (a.pre.length === 0 || b.pre.length === 0) {
    if (a.pre.length !== b.pre.length) return a.pre.length === 0 ? 1 : -1;
  } else {
    for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
      const c = compareIdentifiers(a.pre[i]!, b.pre[i]!);
      if (c !== 0) return c;
    }
    if (a.pre.length !== b.pre.length) return a.pre.length - b.pre.length;
  }
  if (a.build === b.build) return 0;
  if (a.build === '') return -1;
  if (b.build === '') return 1;
  const ab = a.build.split('.');
  const bb = b.build.split('.');
  for (let i = 0; i < Math.min(ab.length, bb.length); i++) {
    const c = compareIdentifiers(ab[i]!, bb[i]!);
    if (c !== 0) return c;
  }
  return ab.length - bb.length;
}

function comparePluginVersions(a: string, b: string): number {
  const sa = parseSemver(a);
  const sb = parseSemver(b);
  if (sa && sb) return compareSemver(sa, sb);
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function activePluginVersion(packageRoot: string): Promise<string | undefined> {
  let entries;
  try {
    entries = await readdir(fsPath(packageRoot), { withFileTypes: true });
  } catch {
    return undefined;
  }
  const versions = entries.filter((e) => e.isDirectory() && validVersionSegment(e.name)).map((e) => e.name);
  if (versions.length === 0) return undefined;
  if (versions.includes(DEFAULT_PLUGIN_VERSION)) return DEFAULT_PLUGIN_VERSION;
  versions.sort(comparePluginVersions);
  return versions[versions.length - 1];
}

async function readRemotePluginId(packageRoot: string): Promise<string | null> {
  const path = posix.join(packageRoot, REMOTE_PLUGIN_INSTALL_METADATA_FILE);
  let info;
  try {
    info = await stat(fsPath(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (!info.isFile()) throw new Error('remote installation metadata is not a regular file');
  const bytes = await readFile(fsPath(path));
  if (bytes.length > MAX_REMOTE_INSTALL_METADATA_BYTES) throw new Error('remote installation metadata exceeds its byte limit');
  const parsed = JSON.parse(decodeUtf8(bytes)) as { schema_version?: unknown; remote_plugin_id?: unknown };
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.remote_plugin_id !== 'string' || typeof parsed.schema_version !== 'number') {
    throw new Error('failed to parse remote plugin install metadata');
  }
  if (parsed.schema_version !== 1) throw new Error(`unsupported remote plugin install metadata schema version: ${parsed.schema_version}`);
  const id = parsed.remote_plugin_id.trim();
  if (id === '') throw new Error('invalid remote plugin install metadata: remote plugin id must not be blank');
  if (Buffer.byteLength(id) > MAX_REMOTE_PLUGIN_ID_BYTES) throw new Error('remote plugin ID exceeds its byte limit');
  return id;
}

/** Whether a candidate root exists as a directory; errors other than "not found" fail the request. */
async function candidateExists(path: string): Promise<boolean> {
  try {
    return (await stat(fsPath(path))).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw RpcError.internal(osErrorMessage(err as NodeJS.ErrnoException));
  }
}

async function cachedPluginLocations(cache: string, warnings: string[]): Promise<Location[]> {
  if (!(await candidateExists(cache))) return [];
  let walk;
  try {
    walk = await walkTree(cache, { maxDepth: 1, maxDirectories: 2_000, maxEntries: 20_000, followDirectorySymlinks: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw RpcError.internal(osErrorMessage(err as NodeJS.ErrnoException));
  }
  if (walk.errors.length > 0) throw RpcError.internal(`failed to scan plugin cache path ${toPathUri(walk.errors[0]!.path)}: ${walk.errors[0]!.message}`);
  if (walk.truncated) warnings.push('plugin cache traversal limit reached');
  const packages = new Map<string, string>();
  for (const entry of walk.entries) {
    if (entry.kind !== 'directory') continue;
    const relative = posix.relative(cache, entry.path).split('/');
    if (relative.length !== 2) continue;
    const [marketplace, name] = relative as [string, string];
    if (!validSegment(name) || !validSegment(marketplace) || marketplace.includes('.')) continue;
    packages.set(`${name}@${marketplace}`, entry.path);
  }
  const keys = [...packages.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: Location[] = [];
  for (const id of keys) {
    const packageRoot = packages.get(id)!;
    const version = await activePluginVersion(packageRoot);
    if (version === undefined) continue;
    if (out.length === MAX_LOCATIONS) {
      warnings.push(`plugin cache reached its ${MAX_LOCATIONS}-location limit`);
      break;
    }
    let remotePluginId: string | null = null;
    try {
      remotePluginId = await readRemotePluginId(packageRoot);
    } catch (err) {
      warnings.push(`could not read remote installation metadata for ${id}: ${(err as Error).message}`);
    }
    out.push({ root: posix.join(packageRoot, version), plugin: { id, version, remotePluginId } });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// per-location parsing

interface LocationDiscovery {
  plugin?: ExecutorPlugin;
  skills: ExecutorSkill[];
  warnings: string[];
}

function manifestName(manifest: CapabilityTextFile): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest.contents);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const name = (parsed as Record<string, unknown>).name;
  if (name === undefined || name === null) return '';
  return typeof name === 'string' ? name : undefined;
}

function parseLocation(location: Location, discovery: CapabilityRootDiscovery): LocationDiscovery {
  const warnings = [...discovery.warnings];
  if (discovery.error !== null) warnings.push(discovery.error);
  const rootUri = toPathUri(location.root);
  if (location.plugin && !discovery.plugin) {
    warnings.push(`installed plugin at ${rootUri} has no readable manifest`);
    return { skills: [], warnings };
  }
  if (location.plugin && discovery.plugin && manifestName(discovery.plugin.manifest) === undefined) {
    warnings.push(`installed plugin at ${rootUri} has an invalid manifest`);
    return { skills: [], warnings };
  }

  const namespaces = new Map<string, string>();
  for (const manifest of discovery.namespaceManifests) {
    const pluginRoot = posix.dirname(posix.dirname(manifest.path));
    const parsed = manifestName(manifest);
    if (parsed === undefined) continue;
    let name = parsed;
    if (parsed.trim() === '') {
      const base = posix.basename(PathUri.parse(pluginRoot).toNativePath());
      if (base === '') continue;
      name = base;
    }
    if (!namespaces.has(pluginRoot)) namespaces.set(pluginRoot, name);
  }

  const skills: ExecutorSkill[] = [];
  for (const skill of discovery.skills) {
    const skillPath = skill.instructions.path;
    const native = PathUri.parse(skillPath).toNativePath();
    const parsed = parseSkillFrontmatter(skill.instructions.contents, () => {
      const dir = posix.basename(posix.dirname(native));
      const name = sanitizeSingleLine(dir);
      return name === '' ? 'skill' : name;
    });
    if (!parsed) {
      warnings.push(`invalid skill metadata at ${skillPath}`);
      continue;
    }
    let namespace: string | undefined;
    let ancestor = posix.dirname(skillPath);
    let tooLong = false;
    for (;;) {
      const name = namespaces.get(ancestor);
      if (name !== undefined) {
        if ([...name].slice(0, MAX_QUALIFIED_NAME_LEN + 1).length + 1 + [...parsed.name].length > MAX_QUALIFIED_NAME_LEN) {
          warnings.push(`invalid skill metadata at ${skillPath}: qualified name exceeds ${MAX_QUALIFIED_NAME_LEN} characters`);
          tooLong = true;
        } else {
          namespace = name;
        }
        break;
      }
      const parent = posix.dirname(ancestor);
      if (parent === ancestor || !parent.startsWith('file://')) break;
      ancestor = parent;
    }
    if (tooLong) continue;
    const metadata = parseSkillMetadataFile(skill.metadata?.contents ?? null);
    const name = namespace === undefined ? parsed.name : `${namespace}:${parsed.name}`;
    const common = { name, description: parsed.description, shortDescription: parsed.shortDescription, path: skillPath };
    skills.push(
      location.plugin
        ? { ...common, dependencies: metadata.dependencies, policy: metadata.policy }
        : { ...common, discoveryRoot: { id: location.discoveryRootId!, path: rootUri }, dependencies: metadata.dependencies, policy: metadata.policy },
    );
  }

  if (location.plugin && discovery.plugin) {
    return {
      plugin: {
        id: location.plugin.id,
        displayName: namespaces.get(rootUri) ?? posix.basename(location.root),
        remotePluginId: location.plugin.remotePluginId,
        version: location.plugin.version,
        root: rootUri,
        files: discovery.plugin,
        skills,
      },
      skills: [],
      warnings,
    };
  }
  return { skills, warnings };
}

async function loadLocation(location: Location): Promise<LocationDiscovery> {
  try {
    const info = await stat(fsPath(location.root));
    if (!info.isDirectory()) return { skills: [], warnings: [] };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR') return { skills: [], warnings: [] };
    return { skills: [], warnings: [`could not inspect capability root ${toPathUri(location.root)}: ${(err as Error).message}`] };
  }
  const discovery = await discoverRoot({ id: location.plugin?.id ?? '', path: PathUri.parse(toPathUri(location.root)) });
  return parseLocation(location, discovery);
}

// ---------------------------------------------------------------------------------------------

export async function discoverCapabilitiesV2(host: CodexHost): Promise<DiscoverV2Response> {
  const response: DiscoverV2Response = { plugins: [], skills: [], warnings: [] };
  let codexHome: string;
  try {
    codexHome = await resolveCodexHome(host);
  } catch (err) {
    if (err instanceof CodexHomeError) throw RpcError.internal(err.reason);
    throw err;
  }
  const locationWarnings: string[] = [];
  let locations = await cachedPluginLocations(posix.join(codexHome, 'plugins/cache'), locationWarnings);
  const standalone: Array<[string, string]> = [[posix.join(codexHome, 'skills'), 'codex-home-skills']];
  standalone.push([posix.join(posix.resolve(host.homeDir()), '.agents/skills'), 'user-agent-skills']);
  standalone.push([posix.join(host.systemDir, 'skills'), 'system-skills']);
  const seen = new Set<string>();
  for (const [root, id] of standalone) {
    if (seen.has(root)) continue;
    seen.add(root);
    if (await candidateExists(root)) locations.push({ root, discoveryRootId: id });
  }
  if (locations.length > MAX_LOCATIONS) {
    locationWarnings.push(`capability discovery reached its ${MAX_LOCATIONS}-location limit`);
    locations = locations.slice(0, MAX_LOCATIONS);
  }
  if (locationWarnings.length > 0) response.warnings.push(LOCATION_WARNING);

  let capabilities = 0;
  for (const location of locations) {
    const discovery = await loadLocation(location);
    if (discovery.warnings.length > 0 && response.warnings.length < MAX_WARNINGS) response.warnings.push(METADATA_WARNING);
    if (discovery.plugin) {
      const remaining = MAX_CAPABILITIES - capabilities;
      if (remaining <= 0) break;
      discovery.plugin.skills = discovery.plugin.skills.slice(0, remaining - 1);
      capabilities += 1 + discovery.plugin.skills.length;
      response.plugins.push(discovery.plugin);
    }
    for (const skill of discovery.skills) {
      if (capabilities >= MAX_CAPABILITIES) break;
      capabilities++;
      response.skills.push(skill);
    }
  }
  response.plugins.sort((a, b) => {
    const byId = Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
    return byId !== 0 ? byId : Buffer.compare(Buffer.from(a.root), Buffer.from(b.root));
  });
  return response;
}
