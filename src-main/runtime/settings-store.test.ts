import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlError } from '../control/control-error.ts';
import { SETTINGS_FILE, SettingsStore, defaultSettings, validatePatch } from './settings-store.ts';
import { testSecretBox } from './test-support.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'exec-desk-settings-'));
}

function invalid(fn: () => unknown, pattern: RegExp, code = 'invalid_params'): void {
  assert.throws(fn, (err: unknown) => err instanceof ControlError && err.code === code && pattern.test(err.message));
}

test('defaults, a round trip through the file (0600, atomic), and the API key only as ciphertext', () => {
  const dir = tempDir();
  try {
    const store = new SettingsStore({ dir, secretBox: testSecretBox });
    assert.deepEqual(store.view(), { ...defaultSettings(), hasApiKey: false });
    const view = store.update({
      listenUrl: 'ws://127.0.0.1:4711',
      startListenerOnLaunch: false,
      remote: { registryUrl: 'https://registry.openai.com/api', environmentId: ' env-1 ', connectOnLaunch: true },
      closeToTray: false,
      apiKey: 'sk-roundtrip-abcdef0123456789',
    });
    assert.equal(view.hasApiKey, true);
    assert.equal(view.remote.environmentId, 'env-1');
    assert.equal(view.remote.name, 'codex-exec-server', 'untouched fields keep their values');
    assert.ok(!JSON.stringify(view).includes('sk-roundtrip'));

    const path = join(dir, SETTINGS_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), [SETTINGS_FILE], 'no temp file left behind');
    const raw = readFileSync(path, 'utf8');
    assert.ok(!raw.includes('sk-roundtrip'), 'the file holds ciphertext only');

    const reopened = new SettingsStore({ dir, secretBox: testSecretBox });
    assert.deepEqual(reopened.view(), view);
    assert.equal(reopened.apiKey(), 'sk-roundtrip-abcdef0123456789');

    reopened.update({ apiKey: null });
    assert.equal(new SettingsStore({ dir, secretBox: testSecretBox }).view().hasApiKey, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a SecretBox (headless) an API key is refused with a clear error and nothing changes', () => {
  const store = new SettingsStore({ dir: null });
  invalid(() => store.update({ apiKey: 'sk-abc-0123456789', closeToTray: false }), /cannot store an API key.*environment or command-line flags/, 'unavailable');
  assert.equal(store.view().closeToTray, true, 'a refused patch applies nothing');
  const unavailable = new SettingsStore({ dir: null, secretBox: { ...testSecretBox, available: () => false } });
  invalid(() => unavailable.update({ apiKey: 'sk-abc-0123456789' }), /no OS keychain/, 'unavailable');
  assert.equal(store.update({ apiKey: null }).hasApiKey, false, 'forgetting works everywhere');
});

test('patch validation: listen URL, registry URL, types and unknown keys', () => {
  invalid(() => validatePatch(null), /must be an object/);
  invalid(() => validatePatch({ listen: 'x' }), /unknown setting "listen"/);
  invalid(() => validatePatch({ remote: { registry: 'x' } }), /unknown setting "remote.registry"/);
  invalid(() => validatePatch({ listenUrl: 'http://127.0.0.1:1' }), /unsupported --listen URL/);
  invalid(() => validatePatch({ listenUrl: 'ws://localhost:1' }), /invalid websocket --listen URL/);
  invalid(() => validatePatch({ listenUrl: 'stdio' }), /not stdio/);
  invalid(() => validatePatch({ listenUrl: 'ws://0.0.0.0:8080' }), /not a loopback address/);
  assert.deepEqual(validatePatch({ listenUrl: 'ws://[::1]:0' }), { listenUrl: 'ws://[::1]:0' });
  invalid(() => validatePatch({ startAtLogin: 'yes' }), /startAtLogin must be true or false/);
  invalid(() => validatePatch({ remote: { registryUrl: 'ftp://x.test' } }), /https/);
  invalid(() => validatePatch({ remote: { registryUrl: 'http://registry.example.com' } }), /plain http only on a loopback host/);
  invalid(() => validatePatch({ remote: { registryUrl: 'https://user:pw@x.test' } }), /user name or password/);
  invalid(() => validatePatch({ remote: { registryUrl: 'https://x.test/#frag' } }), /fragment/);
  invalid(() => validatePatch({ remote: { registryUrl: 'not a url' } }), /not a valid URL/);
  invalid(() => validatePatch({ remote: { authMethod: 'password' } }), /authMethod must be one of/);
  invalid(() => validatePatch({ remote: { name: 'a\nb' } }), /control characters/);
  invalid(() => validatePatch({ apiKey: 'has space' }), /without spaces/);
  invalid(() => validatePatch({ apiKey: 42 }), /apiKey must be a string/);
  // SigV4: profile and region may be empty (the AWS chain decides), the service may not.
  assert.deepEqual(validatePatch({ remote: { authMethod: 'aws-sigv4', awsProfile: ' desk ', awsRegion: '', awsService: 'execute-api' } }).remote, {
    authMethod: 'aws-sigv4',
    awsProfile: 'desk',
    awsRegion: '',
    awsService: 'execute-api',
  });
  invalid(() => validatePatch({ remote: { awsService: '' } }), /remote.awsService must be a name/);
  invalid(() => validatePatch({ remote: { awsRegion: 'eu west 1' } }), /remote.awsRegion must be empty or a name/);
  invalid(() => validatePatch({ remote: { awsProfile: 7 } }), /remote.awsProfile must be a string/);
  for (const ok of ['', 'http://127.0.0.1:9000', 'http://localhost:9000/x', 'http://[::1]:1', 'https://api.openai.com']) {
    assert.equal(validatePatch({ remote: { registryUrl: ok } }).remote?.registryUrl, ok, ok);
  }
});

test('a corrupt file is moved aside, never lost; single bad fields fall back to defaults', () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, SETTINGS_FILE), '{ not json');
    const store = new SettingsStore({ dir });
    assert.deepEqual(store.view(), { ...defaultSettings(), hasApiKey: false });
    assert.match(store.loadWarnings[0]!, /moved aside/);
    const aside = readdirSync(dir).find((n) => n.startsWith(`${SETTINGS_FILE}.corrupt-`));
    assert.ok(aside);
    assert.equal(readFileSync(join(dir, aside), 'utf8'), '{ not json');

    writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify({ version: 1, listenUrl: 'ws://8.8.8.8:1', closeToTray: false, remote: { environmentId: 'e', authMethod: 'x' } }));
    const partial = new SettingsStore({ dir });
    assert.equal(partial.view().listenUrl, defaultSettings().listenUrl);
    assert.equal(partial.view().closeToTray, false);
    assert.equal(partial.view().remote.environmentId, 'e');
    assert.equal(partial.view().remote.authMethod, 'api-key');
    assert.equal(partial.loadWarnings.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory that cannot be written: a clear failure, the settings in memory unchanged', () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const store = new SettingsStore({ dir: join(dir, 'file', 'sub') });
    invalid(() => store.update({ closeToTray: false }), /cannot save settings/, 'failed');
    assert.equal(store.view().closeToTray, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
