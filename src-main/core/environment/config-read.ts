/**
 * `environmentConfig/read` (local-protocol.md §10.3), as the 0.169.0 binary answers it.
 *
 * The reference loads its config layer stack for `cwd` and returns, per layer, only the TOML keys
 * the client selected (`configPaths`, `requirementsPaths`: lists of key segments), re-serialized
 * by the `toml` crate. Observed on the binary (see config-read.test.ts for the fixtures):
 *
 * - config layers, low → high precedence: `system (/etc/codex/config.toml)`, `user
 *   (<codexHome>/config.toml)`, `project (<dir>/.codex/config.toml)` for every directory from the
 *   project root down to `cwd` whose `.codex` is a directory and that is trusted, then `legacy
 *   managed_config.toml (/etc/codex/managed_config.toml)`; a layer whose selection is empty is
 *   left out, and so is a project layer that is not trusted;
 * - the project root is the nearest ancestor of `cwd` holding a marker (`project_root_markers`
 *   from the merged system+user config, default `.git`; a `.git` directory counts only with a
 *   `HEAD` inside), else `cwd`; a directory is trusted when `[projects."<dir>"]`, the project
 *   root's entry or the git repository root's entry (worktrees resolve to their main checkout)
 *   says `trust_level = "trusted"` (paths as given and canonicalized);
 * - requirements layers: `/etc/codex/requirements.toml` as written, then the requirements that
 *   `managed_config.toml`'s `approval_policy` / `approvals_reviewer` / `sandbox_mode` imply;
 * - `cloudInsertionIndex`: how many returned layers precede the (absent) cloud layer: the
 *   system config layer for `config`, the requirements.toml layer for `requirements`;
 * - errors are `-32603 failed to load executor-local config: <reason>` with the toml crate's
 *   texts, or `-32603 failed to find Codex home: ...`.
 */
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { toPathUri } from '../protocol/path-uri.ts';
import { osErrorMessage } from '../os-error.ts';
import { type CodexHost, CodexHomeError, resolveCodexHome } from './codex-home.ts';
import { decodeUtf8, Utf8DecodeError, rustDebug } from './rust-text.ts';
import {
  TomlDateTime,
  TomlFloat,
  TomlParseError,
  type TomlTable,
  type TomlValue,
  isTable,
  parseToml,
  formatFloat,
  stringifyToml,
} from './toml.ts';

export interface EnvironmentConfigReadRequest {
  /** Native absolute path of the request's cwd. */
  cwd: string;
  configPaths: string[][];
  requirementsPaths: string[][];
}

export interface EnvironmentConfigLayer {
  source: string;
  baseDir: string;
  toml: string;
}

export interface EnvironmentConfigLayerStack {
  layers: EnvironmentConfigLayer[];
  cloudInsertionIndex: number;
}

export interface EnvironmentConfigReadResponse {
  userHomeDir: string | null;
  codexHomeDir: string;
  hostname: string | null;
  config: EnvironmentConfigLayerStack;
  requirements: EnvironmentConfigLayerStack;
}

/** A failure the reference reports as `failed to load executor-local config: <message>`. */
export class ConfigLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigLoadError';
  }
}

interface LoadedLayer {
  kind: 'system' | 'user' | 'project' | 'legacy';
  source: string;
  baseDir: string;
  table: TomlTable;
}

export async function readEnvironmentConfig(request: EnvironmentConfigReadRequest, host: CodexHost): Promise<EnvironmentConfigReadResponse> {
  let codexHome: string;
  try {
    codexHome = await resolveCodexHome(host);
  } catch (err) {
    if (err instanceof CodexHomeError) throw RpcError.internal(err.message);
    throw err;
  }
  let stacks: { config: LoadedLayer[]; requirements: Array<{ fromFile: boolean; source: string; baseDir: string; table: TomlTable }> };
  try {
    stacks = await loadLayers(request.cwd, codexHome, host);
  } catch (err) {
    if (err instanceof ConfigLoadError) throw new RpcError(ErrorCode.Internal, `failed to load executor-local config: ${err.message}`);
    throw err;
  }

  const config: EnvironmentConfigLayer[] = [];
  let configCloudIndex = 0;
  for (const layer of stacks.config) {
    const toml = selectedToml(layer.table, request.configPaths);
    if (toml === '') continue;
    config.push({ source: layer.source, baseDir: layer.baseDir, toml });
    if (layer.kind === 'system') configCloudIndex = config.length;
  }
  const requirements: EnvironmentConfigLayer[] = [];
  let requirementsCloudIndex = 0;
  for (const layer of stacks.requirements) {
    const toml = selectedToml(layer.table, request.requirementsPaths);
    if (toml === '') continue;
    requirements.push({ source: layer.source, baseDir: layer.baseDir, toml });
    if (layer.fromFile) requirementsCloudIndex = requirements.length;
  }

  return {
    userHomeDir: toPathUri(posix.resolve(host.homeDir())),
    codexHomeDir: toPathUri(codexHome),
    hostname: await host.hostname(),
    config: { layers: config, cloudInsertionIndex: configCloudIndex },
    requirements: { layers: requirements, cloudInsertionIndex: requirementsCloudIndex },
  };
}

// ---------------------------------------------------------------------------------------------
// selection

interface SelectionNode {
  whole: boolean;
  children: Map<string, SelectionNode>;
}

function selectionTree(paths: string[][]): SelectionNode {
  const root: SelectionNode = { whole: false, children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const segment of path) {
      let child = node.children.get(segment);
      if (!child) {
        child = { whole: false, children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.whole = true;
  }
  return root;
}

/**
 * The selected part of a table, in document order: a path that ends (or meets a non-table
 * value) takes the whole value; intermediate tables are kept even when the last key is missing.
 */
function selectTable(table: TomlTable, node: SelectionNode): TomlTable {
  const out: TomlTable = new Map();
  for (const [key, value] of table) {
    const child = node.children.get(key);
    if (!child) continue;
    if (child.whole || !isTable(value)) out.set(key, value);
    else out.set(key, selectTable(value, child));
  }
  return out;
}

/** The `toml` text of a layer's selection ('' when nothing was selected). */
export function selectedToml(table: TomlTable, paths: string[][]): string {
  if (paths.length === 0) return '';
  const selected = selectTable(table, selectionTree(paths));
  return selected.size === 0 ? '' : stringifyToml(selected);
}

// ---------------------------------------------------------------------------------------------
// loading

async function readText(path: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new NotAFile(path);
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeUtf8(bytes);
}

class NotAFile extends Error {
  constructor(path: string) {
    super(`path \`${path}\` is not a file`);
  }
}

function ioText(err: unknown): string {
  if (err instanceof NotAFile || err instanceof Utf8DecodeError) return err.message;
  return osErrorMessage(err as NodeJS.ErrnoException);
}

/** system / user / legacy config files: a missing file is an empty layer (legacy read errors are unprefixed). */
async function loadConfigFile(path: string, prefixReadErrors = true): Promise<TomlTable | undefined> {
  let text: string | undefined;
  try {
    text = await readText(path);
  } catch (err) {
    throw new ConfigLoadError(prefixReadErrors ? `Failed to read config file ${path}: ${ioText(err)}` : ioText(err));
  }
  if (text === undefined) return undefined;
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlParseError) throw new ConfigLoadError(err.located(path));
    throw err;
  }
}

async function loadLayers(cwd: string, codexHome: string, host: CodexHost) {
  const systemDir = host.systemDir;
  const managedFile = posix.join(systemDir, 'managed_config.toml');
  const systemFile = posix.join(systemDir, 'config.toml');
  const userFile = posix.join(codexHome, 'config.toml');
  const requirementsFile = posix.join(systemDir, 'requirements.toml');

  const managed = await loadConfigFile(managedFile, false);
  const system = (await loadConfigFile(systemFile)) ?? new Map();
  const user = (await loadConfigFile(userFile)) ?? new Map();
  const legacyRequirements = managed ? legacyManagedRequirements(managed) : undefined;

  const layers: LoadedLayer[] = [
    { kind: 'system', source: `system (${systemFile})`, baseDir: toPathUri(systemDir), table: system },
    { kind: 'user', source: `user (${userFile})`, baseDir: toPathUri(codexHome), table: user },
  ];

  const merged = mergeTables(mergeTables(new Map(), system), user);
  const markers = projectRootMarkers(merged);
  const projects = projectTrust(merged);
  const trust = await trustContext(cwd, markers, projects);
  for (const layer of await projectLayers(cwd, trust, codexHome)) layers.push(layer);
  if (managed) {
    layers.push({ kind: 'legacy', source: `legacy managed_config.toml (${managedFile})`, baseDir: toPathUri(systemDir), table: managed });
  }

  const requirements: Array<{ fromFile: boolean; source: string; baseDir: string; table: TomlTable }> = [];
  let requirementsText: string | undefined;
  try {
    requirementsText = await readText(requirementsFile);
  } catch (err) {
    throw new ConfigLoadError(`Failed to read requirements file ${requirementsFile}: ${ioText(err)}`);
  }
  if (requirementsText !== undefined) {
    let table: TomlTable;
    try {
      table = parseToml(requirementsText);
    } catch (err) {
      if (err instanceof TomlParseError) throw new ConfigLoadError(`failed to parse requirements layer ${requirementsFile}: ${err.display()}`);
      throw err;
    }
    requirements.push({ fromFile: true, source: requirementsFile, baseDir: toPathUri(systemDir), table });
  }
  if (legacyRequirements) requirements.push({ fromFile: false, source: managedFile, baseDir: toPathUri(systemDir), table: legacyRequirements });
  return { config: layers, requirements };
}

/** `merge_toml_values`: tables merge key by key, anything else is replaced. */
function mergeTables(base: TomlTable, overlay: TomlTable): TomlTable {
  for (const [key, value] of overlay) {
    const existing = base.get(key);
    if (isTable(existing) && isTable(value)) base.set(key, mergeTables(new Map(existing), value));
    else base.set(key, value);
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// serde-style checks of the few typed fields the loader reads

class SerdeError extends Error {
  constructor(
    message: string,
    readonly path: string[],
  ) {
    super(message);
  }

  /** `toml::de::Error` display for a value deserialization: `<message>\nin \`a.b\`\n`. */
  display(): string {
    return this.path.length === 0 ? `${this.message}\n` : `${this.message}\nin \`${this.path.join('.')}\`\n`;
  }
}

function describe(value: TomlValue): string {
  if (typeof value === 'string') return `string ${rustDebug(value)}`;
  if (typeof value === 'bigint') return `integer \`${value}\``;
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  if (value instanceof TomlFloat) return `floating point \`${Number.isNaN(value.value) ? 'NaN' : formatFloat(value.value)}\``;
  if (value instanceof TomlDateTime) return `string ${rustDebug(value.text)}`;
  if (Array.isArray(value)) return 'sequence';
  return 'map';
}

function typeWord(value: TomlValue): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof TomlFloat) return 'float';
  if (value instanceof TomlDateTime) return 'datetime';
  if (Array.isArray(value)) return 'array';
  return 'table';
}

function expectedVariants(variants: readonly string[]): string {
  if (variants.length === 1) return `expected \`${variants[0]}\``;
  if (variants.length === 2) return `expected \`${variants[0]}\` or \`${variants[1]}\``;
  return `expected one of ${variants.map((v) => `\`${v}\``).join(', ')}`;
}

/** A serde enum of unit variants read from a toml::Value (strings, or `{ variant = {} }`). */
function unitEnum(value: TomlValue, variants: readonly string[], path: string[], aliases: Record<string, string> = {}): string {
  const check = (name: string): string => {
    if (variants.includes(name)) return aliases[name] ?? name;
    throw new SerdeError(`unknown variant \`${name}\`, ${expectedVariants(variants)}`, path);
  };
  if (typeof value === 'string') return check(value);
  if (isTable(value)) {
    if (value.size !== 1) throw new SerdeError(value.size === 0 ? 'wanted exactly 1 element, found 0 elements' : 'wanted exactly 1 element, more than 1 element', path);
    const [name, content] = [...value][0]!;
    const variant = check(name);
    if (!(isTable(content) && content.size === 0)) throw new SerdeError(`expected table, found ${typeWord(content)}`, path);
    return variant;
  }
  throw new SerdeError('invalid type: unit variant, expected string only', path);
}

type TrustLevel = 'trusted' | 'untrusted';

/** `ProjectTrustConfigToml { projects: Option<HashMap<String, ProjectConfig>> }` over the merged config. */
function projectTrust(merged: TomlTable): Map<string, TrustLevel> {
  const out = new Map<string, TrustLevel>();
  const projects = merged.get('projects');
  if (projects === undefined) return out;
  try {
    if (!isTable(projects)) throw new SerdeError(`invalid type: ${describe(projects)}, expected a map`, ['projects']);
    for (const [key, entry] of projects) {
      const path = ['projects', key];
      let trust: TomlValue | undefined;
      if (isTable(entry)) {
        trust = entry.get('trust_level');
        if (trust !== undefined) path.push('trust_level');
      } else if (Array.isArray(entry)) {
        if (entry.length === 0) throw new SerdeError('invalid length 0, expected struct ProjectConfig with 1 element', path);
        trust = entry[0];
        if (entry.length > 1) {
          unitEnum(trust!, ['trusted', 'untrusted'], path);
          throw new SerdeError(`invalid length ${entry.length}, expected fewer elements in array`, path);
        }
      } else {
        throw new SerdeError(`invalid type: ${describe(entry)}, expected struct ProjectConfig`, path);
      }
      if (trust !== undefined) out.set(key, unitEnum(trust, ['trusted', 'untrusted'], path) as TrustLevel);
    }
  } catch (err) {
    if (err instanceof SerdeError) throw new ConfigLoadError(err.display());
    throw err;
  }
  return out;
}

function projectRootMarkers(merged: TomlTable): string[] {
  const value = merged.get('project_root_markers');
  if (value === undefined) return ['.git'];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new ConfigLoadError('project_root_markers must be an array of strings');
  }
  return value as string[];
}

const APPROVAL_POLICIES = ['untrusted', 'on-failure', 'on-request', 'granular', 'never'] as const;
const APPROVALS_REVIEWERS = ['user', 'auto_review', 'guardian_subagent'] as const;
const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;

/** The requirements `managed_config.toml` implies (`LegacyManagedConfigToml` → `ConfigRequirementsToml`). */
function legacyManagedRequirements(managed: TomlTable): TomlTable | undefined {
  const out: TomlTable = new Map();
  try {
    const fields: Array<[string, TomlValue | undefined]> = [
      ['approval_policy', managed.get('approval_policy')],
      ['approvals_reviewer', managed.get('approvals_reviewer')],
      ['sandbox_mode', managed.get('sandbox_mode')],
    ];
    const decoded = new Map<string, string>();
    for (const [name, value] of fields) {
      if (value === undefined) continue;
      if (name === 'approval_policy') {
        if (isTable(value) && value.size === 1 && value.has('granular')) {
          const content = value.get('granular')!;
          if (!isTable(content)) throw new SerdeError(`invalid type: ${describe(content)}, expected struct variant AskForApproval::Granular`, [name]);
          throw new SerdeError('missing field `rules`', [name]);
        }
        decoded.set(name, unitEnum(value, APPROVAL_POLICIES, [name]));
      } else if (name === 'approvals_reviewer') {
        decoded.set(name, unitEnum(value, APPROVALS_REVIEWERS, [name], { guardian_subagent: 'auto_review' }));
      } else {
        decoded.set(name, unitEnum(value, SANDBOX_MODES, [name]));
      }
    }
    const policy = decoded.get('approval_policy');
    if (policy !== undefined) out.set('allowed_approval_policies', [policy]);
    const reviewer = decoded.get('approvals_reviewer');
    if (reviewer !== undefined) out.set('allowed_approvals_reviewers', reviewer === 'auto_review' ? ['auto_review', 'user'] : [reviewer]);
    const mode = decoded.get('sandbox_mode');
    if (mode !== undefined) out.set('allowed_sandbox_modes', mode === 'read-only' ? ['read-only'] : ['read-only', mode]);
  } catch (err) {
    if (err instanceof SerdeError) throw new ConfigLoadError(`Failed to parse config requirements as TOML: ${err.display()}`);
    throw err;
  }
  return out.size > 0 ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// projects and trust

interface TrustContext {
  projectRoot: string;
  projectRootKeys: string[];
  repoRootKeys: string[] | undefined;
  projects: Map<string, TrustLevel>;
}

/** Lexical ancestors of an absolute path, the path itself first. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  let current = path;
  for (;;) {
    out.push(current);
    const parent = posix.dirname(current);
    if (parent === current) return out;
    current = parent;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A `.git` that marks a repository: a file (worktree / submodule link) or a directory with `HEAD`. */
async function isGitEntry(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const info = await lstat(path);
    if (info.isFile()) return 'file';
    if (info.isDirectory()) {
      try {
        await lstat(posix.join(path, 'HEAD'));
        return 'dir';
      } catch {
        return undefined;
      }
    }
  } catch {
    /* absent */
  }
  return undefined;
}

async function findProjectRoot(cwd: string, markers: string[]): Promise<string> {
  if (markers.length === 0) return cwd;
  for (const dir of ancestors(cwd)) {
    for (const marker of markers) {
      const path = posix.join(dir, marker);
      if (marker === '.git' ? (await isGitEntry(path)) !== undefined : await exists(path)) return dir;
    }
  }
  return cwd;
}

/** The repository root whose trust applies to `cwd`: worktrees resolve to their main checkout. */
async function gitRepoRootForTrust(cwd: string): Promise<string | undefined> {
  for (const dir of ancestors(cwd)) {
    const dotGit = posix.join(dir, '.git');
    const kind = await isGitEntry(dotGit);
    if (kind === 'dir') return dir;
    if (kind === 'file') return (await worktreeMainRoot(dotGit)) ?? dir;
  }
  return undefined;
}

async function worktreeMainRoot(dotGitFile: string): Promise<string | undefined> {
  try {
    const text = await readFile(dotGitFile, 'utf8');
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
    if (!m) return undefined;
    const gitDir = posix.resolve(posix.dirname(dotGitFile), m[1]!);
    const commonDir = (await readFile(posix.join(gitDir, 'commondir'), 'utf8')).trim();
    await readFile(posix.join(gitDir, 'gitdir'), 'utf8');
    const common = posix.resolve(gitDir, commonDir);
    return posix.dirname(common);
  } catch {
    return undefined;
  }
}

/** The canonical path first, then the path as given when it differs. */
async function trustKeys(path: string): Promise<string[]> {
  let canonical = path;
  try {
    canonical = await realpath(path);
  } catch {
    /* keep the lexical path */
  }
  return canonical === path ? [canonical] : [canonical, path];
}

async function trustContext(cwd: string, markers: string[], projects: Map<string, TrustLevel>): Promise<TrustContext> {
  const projectRoot = await findProjectRoot(cwd, markers);
  const repoRoot = await gitRepoRootForTrust(cwd);
  return {
    projectRoot,
    projectRootKeys: await trustKeys(projectRoot),
    repoRootKeys: repoRoot === undefined ? undefined : await trustKeys(repoRoot),
    projects,
  };
}

async function isTrusted(dir: string, trust: TrustContext): Promise<boolean> {
  const candidates = [...(await trustKeys(dir)), ...trust.projectRootKeys, ...(trust.repoRootKeys ?? [])];
  for (const key of candidates) {
    const level = trust.projects.get(key);
    if (level !== undefined) return level === 'trusted';
  }
  return false;
}

async function projectLayers(cwd: string, trust: TrustContext, codexHome: string): Promise<LoadedLayer[]> {
  const dirs: string[] = [];
  for (const dir of ancestors(cwd)) {
    dirs.push(dir);
    if (dir === trust.projectRoot) break;
  }
  dirs.reverse();
  let codexHomeCanonical = codexHome;
  try {
    codexHomeCanonical = await realpath(codexHome);
  } catch {
    /* keep */
  }
  const layers: LoadedLayer[] = [];
  for (const dir of dirs) {
    const dotCodex = posix.join(dir, '.codex');
    if (!(await isDirectory(dotCodex))) continue;
    const trusted = await isTrusted(dir, trust);
    let dotCodexCanonical = dotCodex;
    try {
      dotCodexCanonical = await realpath(dotCodex);
    } catch {
      /* keep */
    }
    if (dotCodex === codexHome || dotCodexCanonical === codexHomeCanonical) continue;
    const file = posix.join(dotCodex, 'config.toml');
    let text: string | undefined;
    try {
      text = await readText(file);
    } catch (err) {
      throw new ConfigLoadError(`Failed to read project config file ${file}: ${ioText(err)}`);
    }
    let table: TomlTable = new Map();
    if (text !== undefined) {
      try {
        table = parseToml(text);
      } catch (err) {
        if (!(err instanceof TomlParseError)) throw err;
        if (trusted) throw new ConfigLoadError(`Error parsing project config file ${file}: ${err.display()}`);
      }
    }
    // Untrusted project layers are loaded disabled by the reference; they are not returned.
    if (!trusted) continue;
    layers.push({ kind: 'project', source: `project (${file})`, baseDir: toPathUri(dotCodex), table });
  }
  return layers;
}
