/**
 * `capabilityRoots/discoverV1` (local-protocol.md §10.4): reads the capability files under each
 * requested root, as the 0.169.0 binary does.
 *
 * Per root: a missing or unreadable root is `error: "failed to inspect capability root <uri>:
 * <os error>"`, a non-directory `"capability root <uri> is not a directory"`. Otherwise the root
 * is walked breadth-first (directories down to depth 6, hidden ones included, directory symlinks
 * followed once, 2 000 directories / 20 000 entries) and:
 *
 * - `plugin`: the root's own manifest, the first of `.codex-plugin/plugin.json`,
 *   `.claude-plugin/plugin.json`, `.cursor-plugin/plugin.json`; its `mcpServers` / `apps` (a
 *   `./relative` string) name the MCP and apps files (`.mcp.json` by default for MCP unless
 *   `mcpServers` is an inline object);
 * - `skills`: every `SKILL.md` in the walk, sorted by URI, with `agents/openai.yaml` beside it;
 * - `namespaceManifests`: the root's manifest or, failing that, the nearest ancestor's; then the
 *   first manifest of every other plugin directory found, sorted by plugin root;
 * - `warnings`: files that could not be read (`capability file <uri> is not UTF-8: ...`),
 *   manifest paths that were ignored, walk problems.
 *
 * Files over 1 MiB, and reads past 16 MiB per root, are skipped with a warning.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { osErrorMessage } from '../os-error.ts';
import { fsPath, nativePathFromBytes, type PathUri, PathUriError, toPathUri } from '../protocol/path-uri.ts';
import { decodeUtf8, Utf8DecodeError } from './rust-text.ts';

export const MAX_ROOTS_PER_REQUEST = 128;
const MAX_SCAN_DEPTH = 6;
const MAX_DIRECTORIES_PER_ROOT = 2_000;
const MAX_ENTRIES_PER_ROOT = 20_000;
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_BUNDLE_BYTES_PER_ROOT = 16 * 1024 * 1024;
const SKILL_FILE_NAME = 'SKILL.md';
const SKILL_METADATA_PATH = 'agents/openai.yaml';
const DEFAULT_MCP_CONFIG_PATH = '.mcp.json';
export const PLUGIN_MANIFEST_PATHS = ['.codex-plugin/plugin.json', '.claude-plugin/plugin.json', '.cursor-plugin/plugin.json'] as const;

export interface CapabilityTextFile {
  path: string;
  contents: string;
}

export interface DiscoveredPluginFiles {
  manifest: CapabilityTextFile;
  mcpConfig: CapabilityTextFile | null;
  appsConfig: CapabilityTextFile | null;
}

export interface DiscoveredSkillFiles {
  instructions: CapabilityTextFile;
  metadata: CapabilityTextFile | null;
}

export interface CapabilityRootDiscovery {
  id: string;
  path: string;
  plugin: DiscoveredPluginFiles | null;
  skills: DiscoveredSkillFiles[];
  namespaceManifests: CapabilityTextFile[];
  warnings: string[];
  error: string | null;
}

export interface CapabilityRootRequest {
  id: string;
  path: PathUri;
}

// ---------------------------------------------------------------------------------------------
// walk

export interface WalkEntry {
  /** Native path (through symlinks as walked, not canonicalized). */
  path: string;
  kind: 'file' | 'directory';
}

export interface WalkResult {
  entries: WalkEntry[];
  errors: Array<{ path: string; message: string }>;
  truncated: boolean;
}

export interface WalkOptions {
  maxDepth: number;
  maxDirectories: number;
  maxEntries: number;
  followDirectorySymlinks: boolean;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Breadth-first walk; children in byte order; the root itself is not listed. */
export async function walkTree(root: string, options: WalkOptions): Promise<WalkResult> {
  const result: WalkResult = { entries: [], errors: [], truncated: false };
  const visited = new Set<string>();
  try {
    visited.add(await realpath(fsPath(root)));
  } catch {
    visited.add(root);
  }
  const queue: Array<{ path: string; depth: number }> = [{ path: root, depth: 0 }];
  let directoriesRead = 0;
  while (queue.length > 0) {
    const { path, depth } = queue.shift()!;
    if (directoriesRead >= options.maxDirectories) {
      result.truncated = true;
      break;
    }
    directoriesRead++;
    let names: string[];
    try {
      names = (await readdir(fsPath(path), { encoding: 'buffer' })).map((n) => nativePathFromBytes(n));
    } catch (err) {
      if (path === root) throw err;
      result.errors.push({ path, message: osErrorMessage(err as NodeJS.ErrnoException) });
      continue;
    }
    names.sort(byteOrder);
    for (const name of names) {
      const child = path === '/' ? `/${name}` : `${path}/${name}`;
      let kind: 'file' | 'directory' | undefined;
      let descend = false;
      try {
        const info = await stat(fsPath(child));
        const linkInfo = await lstat(fsPath(child));
        if (linkInfo.isSymbolicLink()) {
          if (options.followDirectorySymlinks && info.isDirectory()) {
            kind = 'directory';
            descend = true;
          }
        } else if (info.isDirectory()) {
          kind = 'directory';
          descend = true;
        } else if (info.isFile()) {
          kind = 'file';
        }
      } catch {
        kind = undefined; // dangling symlink or vanished entry
      }
      if (kind === undefined) continue;
      if (result.entries.length >= options.maxEntries) {
        result.truncated = true;
        return result;
      }
      result.entries.push({ path: child, kind });
      if (descend && depth + 1 <= options.maxDepth) {
        let canonical = child;
        try {
          canonical = await realpath(fsPath(child));
        } catch {
          /* keep */
        }
        if (visited.has(canonical)) continue;
        visited.add(canonical);
        queue.push({ path: child, depth: depth + 1 });
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// reading capability files

class Budget {
  bytes = 0;
  canAdd(n: number): boolean {
    return this.bytes + n <= MAX_BUNDLE_BYTES_PER_ROOT;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** A capability file if it exists and is readable UTF-8; problems become warnings. */
export async function readOptionalTextFile(path: string, budget: Budget, warnings: string[]): Promise<CapabilityTextFile | null> {
  const uri = toPathUri(path);
  let size: number;
  try {
    const info = await stat(fsPath(path));
    if (!info.isFile()) return null;
    size = info.size;
  } catch (err) {
    if (isNotFound(err)) return null;
    warnings.push(`failed to inspect capability file ${uri}: ${osErrorMessage(err as NodeJS.ErrnoException)}`);
    return null;
  }
  if (size > MAX_FILE_BYTES) {
    warnings.push(`capability file ${uri} exceeds the ${MAX_FILE_BYTES}-byte limit`);
    return null;
  }
  if (!budget.canAdd(size)) {
    warnings.push(`capability root bundle exceeds the ${MAX_BUNDLE_BYTES_PER_ROOT}-byte limit`);
    return null;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(fsPath(path));
  } catch (err) {
    warnings.push(`failed to read capability file ${uri}: ${osErrorMessage(err as NodeJS.ErrnoException)}`);
    return null;
  }
  if (bytes.length > MAX_FILE_BYTES || !budget.canAdd(bytes.length)) {
    warnings.push(`capability file ${uri} exceeded its read limit`);
    return null;
  }
  let contents: string;
  try {
    contents = decodeUtf8(bytes);
  } catch (err) {
    if (err instanceof Utf8DecodeError) {
      warnings.push(`capability file ${uri} is not UTF-8: ${err.message}`);
      return null;
    }
    throw err;
  }
  budget.bytes += bytes.length;
  return { path: uri, contents };
}

async function readFirstPluginManifest(dir: string, budget: Budget, warnings: string[]): Promise<CapabilityTextFile | null> {
  for (const relative of PLUGIN_MANIFEST_PATHS) {
    const manifest = await readOptionalTextFile(posix.join(dir, relative), budget, warnings);
    if (manifest) return manifest;
  }
  return null;
}

async function readNearestAncestorManifest(root: string, budget: Budget, warnings: string[]): Promise<CapabilityTextFile | null> {
  let current = root;
  for (;;) {
    const parent = posix.dirname(current);
    if (parent === current) return null;
    const manifest = await readFirstPluginManifest(parent, budget, warnings);
    if (manifest) return manifest;
    current = parent;
  }
}

/** 0, 1, 2 for `.codex-plugin`, `.claude-plugin`, `.cursor-plugin` manifests; undefined otherwise. */
function manifestPriority(path: string): number | undefined {
  if (posix.basename(path) !== 'plugin.json') return undefined;
  const dir = posix.basename(posix.dirname(path));
  const index = PLUGIN_MANIFEST_PATHS.findIndex((p) => p === `${dir}/plugin.json`);
  return index === -1 ? undefined : index;
}

/** The plugin directory a manifest belongs to (`<root>/.codex-plugin/plugin.json` → `<root>`). */
export function pluginRootOfManifest(path: string): string {
  return posix.dirname(posix.dirname(path));
}

interface Declarations {
  mcpConfig: string | undefined;
  mcpInline: boolean;
  appsConfig: string | undefined;
}

function declarationPaths(root: string, manifest: CapabilityTextFile, warnings: string[]): Declarations {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest.contents);
  } catch {
    return { mcpConfig: undefined, mcpInline: false, appsConfig: undefined };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { mcpConfig: undefined, mcpInline: false, appsConfig: undefined };
  const record = parsed as Record<string, unknown>;
  const mcp = record.mcpServers;
  const apps = record.apps;
  return {
    mcpConfig: mcp === undefined || mcp === null ? undefined : declaredFilePath(root, 'mcpServers', mcp, manifest.path, warnings),
    mcpInline: typeof mcp === 'object' && mcp !== null && !Array.isArray(mcp),
    appsConfig: apps === undefined || apps === null ? undefined : declaredFilePath(root, 'apps', apps, manifest.path, warnings),
  };
}

function declaredFilePath(root: string, field: string, value: unknown, manifestUri: string, warnings: string[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!value.startsWith('./')) {
    warnings.push(`ignoring ${field} in ${manifestUri}: path must start with \`./\``);
    return undefined;
  }
  const relative = value.slice(2);
  if (relative === '' || relative.split(/[/\\]/).some((component) => component === '..')) {
    warnings.push(`ignoring ${field} in ${manifestUri}: path must remain below the capability root`);
    return undefined;
  }
  const joined = posix.normalize(posix.join(root, relative));
  if (joined !== root && !joined.startsWith(root === '/' ? '/' : `${root}/`)) {
    warnings.push(`ignoring ${field} in ${manifestUri}: path must remain below the capability root`);
    return undefined;
  }
  return joined;
}

// ---------------------------------------------------------------------------------------------
// discovery

export async function discoverRoot(request: CapabilityRootRequest): Promise<CapabilityRootDiscovery> {
  const uri = request.path.href;
  const discovery: CapabilityRootDiscovery = {
    id: request.id,
    path: uri,
    plugin: null,
    skills: [],
    namespaceManifests: [],
    warnings: [],
    error: null,
  };
  let root: string;
  try {
    root = request.path.toNativePath();
  } catch (err) {
    if (err instanceof PathUriError) {
      discovery.error = `failed to inspect capability root ${uri}: ${err.message}`;
      return discovery;
    }
    throw err;
  }
  try {
    const info = await stat(fsPath(root));
    if (!info.isDirectory()) {
      discovery.error = `capability root ${uri} is not a directory`;
      return discovery;
    }
  } catch (err) {
    discovery.error = `failed to inspect capability root ${uri}: ${osErrorMessage(err as NodeJS.ErrnoException)}`;
    return discovery;
  }

  let walk: WalkResult;
  try {
    walk = await walkTree(root, {
      maxDepth: MAX_SCAN_DEPTH,
      maxDirectories: MAX_DIRECTORIES_PER_ROOT,
      maxEntries: MAX_ENTRIES_PER_ROOT,
      followDirectorySymlinks: true,
    });
  } catch (err) {
    discovery.error = `failed to scan capability root ${uri}: ${osErrorMessage(err as NodeJS.ErrnoException)}`;
    return discovery;
  }
  for (const e of walk.errors) discovery.warnings.push(`failed to scan capability path ${toPathUri(e.path)}: ${e.message}`);
  if (walk.truncated) discovery.warnings.push(`capability scan reached its traversal limit (root: ${uri})`);

  const skillPaths: string[] = [];
  const manifestPaths: string[] = [];
  for (const entry of walk.entries) {
    if (entry.kind !== 'file') continue;
    if (posix.basename(entry.path) === SKILL_FILE_NAME) skillPaths.push(entry.path);
    if (manifestPriority(entry.path) !== undefined) manifestPaths.push(entry.path);
  }
  skillPaths.sort((a, b) => byteOrder(toPathUri(a), toPathUri(b)));
  manifestPaths.sort((a, b) => {
    const byRoot = byteOrder(toPathUri(pluginRootOfManifest(a)), toPathUri(pluginRootOfManifest(b)));
    return byRoot !== 0 ? byRoot : manifestPriority(a)! - manifestPriority(b)!;
  });

  const budget = new Budget();
  const rootManifest = await readFirstPluginManifest(root, budget, discovery.warnings);
  const inherited = rootManifest ?? (await readNearestAncestorManifest(root, budget, discovery.warnings));
  const seenRoots = new Set<string>();
  if (inherited) {
    seenRoots.add(pluginRootOfManifest(inherited.path));
    discovery.namespaceManifests.push(inherited);
  }
  for (const manifestPath of manifestPaths) {
    const pluginRoot = toPathUri(pluginRootOfManifest(manifestPath));
    if (seenRoots.has(pluginRoot)) continue;
    seenRoots.add(pluginRoot);
    const manifest = await readOptionalTextFile(manifestPath, budget, discovery.warnings);
    if (manifest) discovery.namespaceManifests.push(manifest);
  }

  if (rootManifest) {
    const declarations = declarationPaths(root, rootManifest, discovery.warnings);
    const mcpPath = declarations.mcpInline ? undefined : (declarations.mcpConfig ?? posix.join(root, DEFAULT_MCP_CONFIG_PATH));
    const mcpConfig = mcpPath === undefined ? null : await readOptionalTextFile(mcpPath, budget, discovery.warnings);
    const appsConfig = declarations.appsConfig === undefined ? null : await readOptionalTextFile(declarations.appsConfig, budget, discovery.warnings);
    discovery.plugin = { manifest: rootManifest, mcpConfig, appsConfig };
  }

  for (const skillPath of skillPaths) {
    const instructions = await readOptionalTextFile(skillPath, budget, discovery.warnings);
    if (!instructions) continue;
    const metadata = await readOptionalTextFile(posix.join(posix.dirname(skillPath), SKILL_METADATA_PATH), budget, discovery.warnings);
    discovery.skills.push({ instructions, metadata });
  }
  return discovery;
}

export async function discoverCapabilityRoots(roots: CapabilityRootRequest[]): Promise<{ roots: CapabilityRootDiscovery[] }> {
  const out: CapabilityRootDiscovery[] = [];
  for (const root of roots) out.push(await discoverRoot(root));
  return { roots: out };
}
