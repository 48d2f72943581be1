import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListenerState, RegistrationState } from '../control/contract.ts';
import { trayModel } from './tray-state.ts';
import { snapshotFixture } from '../../src-renderer/store/test-fixtures.ts';

const base = snapshotFixture();
const listening: ListenerState = base.listener;
const stoppedListener: ListenerState = { ...base.listener, status: 'stopped', url: null };
const remote = (status: RegistrationState['status'], configured = true): RegistrationState => ({ ...base.registration, status, configured });

function labels(model: ReturnType<typeof trayModel>) {
  return model.menu.map((m) => (m.kind === 'separator' ? '---' : `${m.id}:${m.label}${m.enabled ? '' : ' (disabled)'}`));
}

test('icon follows the overall state', () => {
  assert.equal(trayModel(stoppedListener, remote('stopped', false)).icon, 'off');
  assert.equal(trayModel(listening, remote('stopped', false)).icon, 'local');
  assert.equal(trayModel(listening, remote('connecting')).icon, 'busy');
  assert.equal(trayModel(listening, remote('reconnecting')).icon, 'busy');
  assert.equal(trayModel(stoppedListener, remote('online')).icon, 'online');
  assert.equal(trayModel(listening, remote('auth_needed')).icon, 'error');
  assert.equal(trayModel({ ...listening, status: 'error' }, remote('online')).icon, 'error');
});

test('tooltip names the listener URL and the registration state', () => {
  assert.equal(trayModel(listening, remote('online')).tooltip, 'exec-desk: listening on ws://127.0.0.1:4000; online');
  assert.equal(trayModel(stoppedListener, remote('stopped', false)).tooltip, 'exec-desk: listener stopped; remote not set up');
  const long = trayModel({ ...listening, url: `ws://[${'f'.repeat(200)}]:1` }, remote('online')).tooltip;
  assert.equal(long.length, 127);
});

test('menu offers open, start/stop, connect/disconnect and quit', () => {
  assert.deepEqual(labels(trayModel(listening, remote('online'))), [
    'open:Open exec-desk',
    '---',
    'toggle-listener:Stop local listener',
    'toggle-remote:Disconnect remote',
    '---',
    'quit:Quit exec-desk',
  ]);
  assert.deepEqual(labels(trayModel(stoppedListener, remote('stopped', false))).slice(2, 4), [
    'toggle-listener:Start local listener',
    'toggle-remote:Connect remote (disabled)',
  ]);
  assert.equal(labels(trayModel(listening, remote('error')))[3], 'toggle-remote:Connect remote');
});
