/**
 * User settings, electron-free: a JSON file in a given directory (written atomically, mode
 * 0600), defaults for anything absent, validation of every patch, and the API key kept only
 * as ciphertext from an injected SecretBox (desktop: Electron safeStorage). Without a SecretBox
 * (headless runs) an API key is refused: headless takes credentials from env/CLI flags, as the
 * reference does. No secret ever appears in a SettingsView.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { SettingsPatch, SettingsView } from '../control/contract.ts';
import { ControlError } from '../control/control-error.ts';
import { DEFAULT_LISTEN_URL, isLoopbackHost, ListenUrlError, parseListenUrl } from '../cli/options.ts';
import { DEFAULT_AWS_SERVICE } from '../remote/auth/sigv4-provider.ts';

/** Encrypts secrets at rest (Electron's safeStorage in the desktop app). */
export interface SecretBox {
  available(): boolean;
  encrypt(text: string): Buffer;
  decrypt(buf: Buffer): string;
}

export const SETTINGS_FILE = 'settings.json';
const FILE_VERSION = 1;
/** The reference's `--name` default. */
export const DEFAULT_EXECUTOR_NAME = 'codex-exec-server';
const MAX_TEXT = 2048;
const MAX_API_KEY = 4096;

type Settings = Omit<SettingsView, 'hasApiKey'>;
type RemoteSettings = SettingsView['remote'];
const AUTH_METHODS: readonly RemoteSettings['authMethod'][] = ['api-key', 'chatgpt', 'agent-identity', 'aws-sigv4'];
/** AWS profile, region and service names: short, no spaces (they go into SigV4 scopes and file lookups). */
const AWS_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function defaultSettings(): Settings {
  return {
    listenUrl: DEFAULT_LISTEN_URL,
    startListenerOnLaunch: true,
    remote: {
      registryUrl: '',
      environmentId: '',
      name: DEFAULT_EXECUTOR_NAME,
      authMethod: 'api-key',
      awsProfile: '',
      awsRegion: '',
      awsService: DEFAULT_AWS_SERVICE,
      connectOnLaunch: false,
    },
    closeToTray: true,
    startAtLogin: false,
  };
}

export interface SettingsStoreOptions {
  /** Directory of settings.json; null keeps settings in memory only (headless). */
  dir: string | null;
  secretBox?: SecretBox | null;
}

interface FileShape extends Settings {
  version: number;
  /** base64 of the SecretBox ciphertext. */
  apiKeyCiphertext?: string;
}

export class SettingsStore {
  private settings: Settings;
  private apiKeyCiphertext: string | null = null;
  /** Problems found while loading (a corrupt file is moved aside, never lost). */
  readonly loadWarnings: string[] = [];

  constructor(private readonly options: SettingsStoreOptions) {
    this.settings = defaultSettings();
    if (options.dir) this.load(options.dir);
  }

  view(): SettingsView {
    const s = this.settings;
    return { ...s, remote: { ...s.remote }, hasApiKey: this.apiKeyCiphertext !== null };
  }

  /** True when an API key can be stored here. */
  canStoreSecrets(): boolean {
    return this.options.secretBox?.available() === true;
  }

  /** The stored API key in clear text (for the remote link only), or null. */
  apiKey(): string | null {
    if (this.apiKeyCiphertext === null || !this.options.secretBox) return null;
    try {
      return this.options.secretBox.decrypt(Buffer.from(this.apiKeyCiphertext, 'base64'));
    } catch {
      return null;
    }
  }

  /** Validates `patch` (untrusted input) whole, then applies and persists it; throws ControlError. */
  update(patch: unknown): SettingsView {
    const valid = validatePatch(patch);
    let ciphertext = this.apiKeyCiphertext;
    if (valid.apiKey !== undefined) {
      if (valid.apiKey === null) ciphertext = null;
      else {
        if (!this.canStoreSecrets()) {
          throw new ControlError(
            'unavailable',
            'this runtime cannot store an API key (no OS keychain available); headless runs take credentials from the environment or command-line flags',
          );
        }
        ciphertext = this.options.secretBox!.encrypt(valid.apiKey).toString('base64');
      }
    }
    const next = applyPatch(this.settings, valid);
    if (this.options.dir) this.persist(this.options.dir, next, ciphertext);
    this.settings = next;
    this.apiKeyCiphertext = ciphertext;
    return this.view();
  }

  private load(dir: string): void {
    const path = join(dir, SETTINGS_FILE);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.loadWarnings.push(`cannot read ${SETTINGS_FILE}: ${(err as Error).message}`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    } catch (err) {
      const aside = `${path}.corrupt-${Date.now()}`;
      try {
        renameSync(path, aside);
        this.loadWarnings.push(`${SETTINGS_FILE} was not valid JSON (${(err as Error).message}); moved aside to ${aside}, using defaults`);
      } catch {
        this.loadWarnings.push(`${SETTINGS_FILE} was not valid JSON (${(err as Error).message}); using defaults`);
      }
      return;
    }
    const file = parsed as Partial<FileShape>;
    // Take each valid field; report and default the others (one bad value loses nothing else).
    const fields: Array<[string, unknown]> = [
      ['listenUrl', file.listenUrl],
      ['startListenerOnLaunch', file.startListenerOnLaunch],
      ['closeToTray', file.closeToTray],
      ['startAtLogin', file.startAtLogin],
    ];
    for (const [key, value] of fields) {
      if (value === undefined) continue;
      this.tryApply({ [key]: value });
    }
    if (typeof file.remote === 'object' && file.remote !== null) {
      for (const [key, value] of Object.entries(file.remote)) this.tryApply({ remote: { [key]: value } });
    }
    if (typeof file.apiKeyCiphertext === 'string' && file.apiKeyCiphertext !== '') this.apiKeyCiphertext = file.apiKeyCiphertext;
  }

  private tryApply(patch: unknown): void {
    try {
      this.settings = applyPatch(this.settings, validatePatch(patch));
    } catch (err) {
      this.loadWarnings.push(`ignored a stored setting: ${(err as Error).message}`);
    }
  }

  private persist(dir: string, settings: Settings, ciphertext: string | null): void {
    const path = join(dir, SETTINGS_FILE);
    const file: FileShape = { version: FILE_VERSION, ...settings, ...(ciphertext ? { apiKeyCiphertext: ciphertext } : {}) };
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
      chmodSync(tmp, 0o600); // the mode option is filtered by umask and ignored for an existing file
      renameSync(tmp, path);
    } catch (err) {
      throw new ControlError('failed', `cannot save settings: ${(err as Error).message}`);
    }
  }
}

function applyPatch(base: Settings, patch: SettingsPatch): Settings {
  const { apiKey: _secret, remote, ...rest } = patch;
  return { ...base, ...rest, remote: { ...base.remote, ...remote } };
}

const TOP_KEYS = new Set(['listenUrl', 'startListenerOnLaunch', 'remote', 'closeToTray', 'startAtLogin', 'apiKey']);
const REMOTE_KEYS = new Set(['registryUrl', 'environmentId', 'name', 'authMethod', 'awsProfile', 'awsRegion', 'awsService', 'connectOnLaunch']);

function invalid(message: string): ControlError {
  return new ControlError('invalid_params', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

function text(value: unknown, name: string, max = MAX_TEXT): string {
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  if (value.length > max) throw invalid(`${name} is too long (at most ${max} characters)`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${name} must not contain control characters`);
  return value;
}

/** An AWS profile, region or service name; '' (the AWS chain decides) only where `emptyAllowed`. */
function awsName(value: unknown, name: string, emptyAllowed: boolean): string {
  const raw = text(value, name, 128).trim();
  if (raw === '' && emptyAllowed) return raw;
  if (!AWS_NAME.test(raw)) throw invalid(`${name} must be ${emptyAllowed ? 'empty or ' : ''}a name of letters, digits and . _ - (no spaces)`);
  return raw;
}

/** Checks an untrusted patch completely; returns it typed, or throws ControlError('invalid_params'). */
export function validatePatch(input: unknown): SettingsPatch {
  if (!isObject(input)) throw invalid('settings patch must be an object');
  const out: SettingsPatch = {};
  for (const key of Object.keys(input)) if (!TOP_KEYS.has(key)) throw invalid(`unknown setting ${JSON.stringify(key)}`);
  if (input.listenUrl !== undefined) out.listenUrl = validateListenUrl(input.listenUrl);
  if (input.startListenerOnLaunch !== undefined) out.startListenerOnLaunch = bool(input.startListenerOnLaunch, 'startListenerOnLaunch');
  if (input.closeToTray !== undefined) out.closeToTray = bool(input.closeToTray, 'closeToTray');
  if (input.startAtLogin !== undefined) out.startAtLogin = bool(input.startAtLogin, 'startAtLogin');
  if (input.apiKey !== undefined) {
    if (input.apiKey === null) out.apiKey = null;
    else {
      const key = text(input.apiKey, 'apiKey', MAX_API_KEY);
      if (key.trim() === '' || /\s/.test(key)) throw invalid('apiKey must be a non-empty value without spaces');
      out.apiKey = key;
    }
  }
  if (input.remote !== undefined) {
    const remote = input.remote;
    if (!isObject(remote)) throw invalid('remote must be an object');
    for (const key of Object.keys(remote)) if (!REMOTE_KEYS.has(key)) throw invalid(`unknown setting ${JSON.stringify(`remote.${key}`)}`);
    const r: Partial<RemoteSettings> = {};
    if (remote.registryUrl !== undefined) r.registryUrl = validateRegistryUrl(remote.registryUrl);
    if (remote.environmentId !== undefined) r.environmentId = text(remote.environmentId, 'remote.environmentId', 256).trim();
    if (remote.name !== undefined) r.name = text(remote.name, 'remote.name', 256);
    if (remote.authMethod !== undefined) {
      if (!AUTH_METHODS.includes(remote.authMethod as RemoteSettings['authMethod'])) {
        throw invalid(`remote.authMethod must be one of ${AUTH_METHODS.join(', ')}`);
      }
      r.authMethod = remote.authMethod as RemoteSettings['authMethod'];
    }
    if (remote.awsProfile !== undefined) r.awsProfile = awsName(remote.awsProfile, 'remote.awsProfile', true);
    if (remote.awsRegion !== undefined) r.awsRegion = awsName(remote.awsRegion, 'remote.awsRegion', true);
    if (remote.awsService !== undefined) r.awsService = awsName(remote.awsService, 'remote.awsService', false);
    if (remote.connectOnLaunch !== undefined) r.connectOnLaunch = bool(remote.connectOnLaunch, 'remote.connectOnLaunch');
    out.remote = r;
  }
  return out;
}

/**
 * A listener URL the settings may hold: `ws://IP:PORT` on a loopback address. A non-loopback
 * bind needs ws auth, which only the CLI flags configure.
 */
export function validateListenUrl(value: unknown): string {
  const url = text(value, 'listenUrl', 256);
  let target;
  try {
    target = parseListenUrl(url);
  } catch (err) {
    if (err instanceof ListenUrlError) throw invalid(err.message);
    throw err;
  }
  if (target.kind !== 'ws') throw invalid('listenUrl must be a websocket address (ws://IP:PORT), not stdio');
  if (!isLoopbackHost(target.host)) {
    throw invalid(`listenUrl ${url} is not a loopback address; a non-loopback listener needs ws auth (use the command line)`);
  }
  return url;
}

/** A registry base URL: empty (not configured), `https://…`, or `http://` on a loopback host; no userinfo or fragment. */
export function validateRegistryUrl(value: unknown): string {
  const raw = text(value, 'remote.registryUrl').trim();
  if (raw === '') return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`remote.registryUrl is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.username || url.password) throw invalid('remote.registryUrl must not contain a user name or password');
  if (url.hash) throw invalid('remote.registryUrl must not contain a fragment');
  if (url.protocol === 'https:') return raw;
  if (url.protocol === 'http:') {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || isLoopbackHost(host)) return raw;
    throw invalid('remote.registryUrl must use https (plain http only on a loopback host)');
  }
  throw invalid('remote.registryUrl must be an https:// URL');
}
