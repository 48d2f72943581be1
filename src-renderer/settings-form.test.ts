import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formFromSettings, patchFromForm, validateSettingsForm } from './settings-form.ts';
import { snapshotFixture } from './store/test-fixtures.ts';

const settings = snapshotFixture().settings;

test('the form starts from the settings with an empty API key', () => {
  const form = formFromSettings({ ...settings, hasApiKey: true });
  assert.equal(form.apiKey, '');
  assert.equal(form.listenUrl, settings.listenUrl);
  assert.deepEqual(validateSettingsForm(form), {});
  assert.deepEqual(patchFromForm(form, settings), {}, 'nothing changed, nothing sent');
});

test('rejects bad listen and registry URLs with a reason', () => {
  const form = formFromSettings(settings);
  assert.match(validateSettingsForm({ ...form, listenUrl: 'http://127.0.0.1:80' }).listenUrl ?? '', /ws:\/\/IP:PORT/);
  assert.match(validateSettingsForm({ ...form, listenUrl: 'ws://127.0.0.1:70000' }).listenUrl ?? '', /port/);
  assert.match(validateSettingsForm({ ...form, listenUrl: 'ws://300.0.0.1:1' }).listenUrl ?? '', /IPv4/);
  assert.equal(validateSettingsForm({ ...form, listenUrl: 'ws://[::1]:8080' }).listenUrl, undefined);
  assert.match(validateSettingsForm({ ...form, registryUrl: 'ftp://x' }).registryUrl ?? '', /https/);
  assert.match(validateSettingsForm({ ...form, registryUrl: 'http://example.com' }).registryUrl ?? '', /loopback/);
  assert.equal(validateSettingsForm({ ...form, registryUrl: 'http://127.0.0.1:9' }).registryUrl, undefined);
  const connect = validateSettingsForm({ ...form, connectOnLaunch: true });
  assert.ok(connect.registryUrl && connect.environmentId);
});

test('the patch carries only changes, and the key only when typed or forgotten', () => {
  const form = formFromSettings(settings);
  assert.deepEqual(patchFromForm({ ...form, registryUrl: ' https://r.example ', apiKey: 'sk-1' }, settings), {
    remote: { registryUrl: 'https://r.example' },
    apiKey: 'sk-1',
  });
  assert.deepEqual(patchFromForm({ ...form, forgetApiKey: true, closeToTray: false }, settings), { closeToTray: false, apiKey: null });
  assert.match(validateSettingsForm({ ...form, forgetApiKey: true, apiKey: 'k' }).apiKey ?? '', /not both/);
});

test('SigV4: the AWS names are checked only when SigV4 is chosen, and sent trimmed', () => {
  const form = { ...formFromSettings(settings), authMethod: 'aws-sigv4' as const };
  assert.deepEqual(validateSettingsForm(form), {}, 'empty profile and region: the AWS chain decides');
  assert.match(validateSettingsForm({ ...form, awsService: ' ' }).awsService ?? '', /Needed/);
  assert.match(validateSettingsForm({ ...form, awsRegion: 'eu west 1' }).awsRegion ?? '', /Letters, digits/);
  assert.deepEqual(validateSettingsForm({ ...form, authMethod: 'api-key', awsRegion: 'eu west 1' }), {}, 'hidden fields never block a save');
  assert.deepEqual(patchFromForm({ ...form, awsProfile: ' desk ', awsRegion: 'eu-west-1' }, settings), {
    remote: { authMethod: 'aws-sigv4', awsProfile: 'desk', awsRegion: 'eu-west-1' },
  });
});
