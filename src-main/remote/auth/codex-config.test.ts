import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chatgptBaseUrl, DEFAULT_CHATGPT_BASE_URL } from './codex-config.ts';
import { tempHome } from './testing/fixtures.ts';

test('chatgpt_base_url: top-level string only, default otherwise', async () => {
  const home = await tempHome();
  try {
    assert.equal(await chatgptBaseUrl(home.dir), DEFAULT_CHATGPT_BASE_URL);
    await writeFile(join(home.dir, 'config.toml'), 'model = "x"\nchatgpt_base_url = "https://example.test/b\\u0061ckend/" # note\n');
    assert.equal(await chatgptBaseUrl(home.dir), 'https://example.test/backend/');
    await writeFile(join(home.dir, 'config.toml'), '[profiles.x]\nchatgpt_base_url = "https://ignored/"\n');
    assert.equal(await chatgptBaseUrl(home.dir), DEFAULT_CHATGPT_BASE_URL);
  } finally {
    await home.cleanup();
  }
});
