import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveRendererAsset } from './renderer-protocol.ts';

const root = '/opt/exec-desk/out/renderer';

test('serves files of the renderer folder with their content type', () => {
  assert.deepEqual(resolveRendererAsset('app://exec-desk/', root), { path: join(root, 'index.html'), contentType: 'text/html; charset=utf-8' });
  assert.deepEqual(resolveRendererAsset('app://exec-desk/assets/index-1.js?x=1#y', root), {
    path: join(root, 'assets/index-1.js'),
    contentType: 'text/javascript; charset=utf-8',
  });
});

test('refuses traversal, other hosts and unknown types', () => {
  for (const url of [
    'app://exec-desk/../../etc/passwd',
    'app://exec-desk/assets/..%2f..%2f..%2fsecret.js',
    'app://exec-desk/a%00.js',
    'app://exec-desk/%E0%A4%A',
    'app://other/index.html',
    'file:///opt/exec-desk/out/renderer/index.html',
    'app://exec-desk/settings.json.bak',
    'app://exec-desk/noext',
  ]) {
    assert.equal(resolveRendererAsset(url, root), null, url);
  }
});

test('dot segments never leave the renderer folder', () => {
  for (const url of ['app://exec-desk/%2e%2e/%2e%2e/etc/passwd.js', 'app://exec-desk/a/../../../../x.js']) {
    const asset = resolveRendererAsset(url, root);
    assert.ok(asset === null || asset.path.startsWith(root + '/'), url);
  }
});
