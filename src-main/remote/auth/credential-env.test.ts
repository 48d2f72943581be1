import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AWS_CREDENTIAL_ENV, EXECUTOR_CREDENTIAL_ENV, withoutVariables } from './credential-env.ts';

test('withoutVariables drops exactly the named variables and leaves its input alone', () => {
  const env = { CODEX_API_KEY: 'k', CODEX_ACCESS_TOKEN: 't', codex_api_key: 'lower', PATH: '/bin', AWS_SESSION_TOKEN: 's' };
  const out = withoutVariables(env, EXECUTOR_CREDENTIAL_ENV);
  // Names are exact: the OS keeps case, and a lower-case look-alike is not what exec-desk reads.
  assert.deepEqual(out, { codex_api_key: 'lower', PATH: '/bin', AWS_SESSION_TOKEN: 's' });
  assert.equal(env.CODEX_API_KEY, 'k');
  assert.deepEqual(withoutVariables(env, [...EXECUTOR_CREDENTIAL_ENV, ...AWS_CREDENTIAL_ENV]), { codex_api_key: 'lower', PATH: '/bin' });
});
