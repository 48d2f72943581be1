import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codexUserAgent, originator } from './codex-user-agent.ts';

test('originator and user-agent shape', () => {
  assert.equal(originator({}), 'codex_cli_rs');
  assert.equal(originator({ CODEX_INTERNAL_ORIGINATOR_OVERRIDE: 'other_app' }), 'other_app');
  assert.match(codexUserAgent({}), /^codex_cli_rs\/0\.169\.0 \([^;()]+; [^;()]+\) unknown$/);
  assert.match(codexUserAgent({ TERM_PROGRAM: 'iTerm.app', TERM_PROGRAM_VERSION: '3.5', TERM: 'xterm' }), / iTerm\.app\/3\.5$/);
  assert.match(codexUserAgent({ TERM: 'xterm-256color' }), / xterm-256color$/);
  assert.match(codexUserAgent({ TERM: 'tërm' }), / t_rm$/);
  assert.match(codexUserAgent({ CODEX_INTERNAL_ORIGINATOR_OVERRIDE: 'other_app' }), /^other_app\/0\.169\.0 /);
});
