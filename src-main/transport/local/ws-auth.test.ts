import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import {
  authorizeUpgrade,
  loadWsAuth,
  planWsAuth,
  readWsAuthPlan,
  rustTrim,
  topLevelMembers,
  WS_AUTH_REASONS as R,
  WsAuthStartupError,
  type WsAuthConfig,
  type WsAuthFlags,
} from './ws-auth.ts';

const SECRET = '0123456789abcdef0123456789abcdef'; // 32 bytes
const secretBytes = new TextEncoder().encode(SECRET);
const NOW_MS = 1_800_000_000_500; // .5 s into a second: the reference floors to whole seconds
const NOW = Math.floor(NOW_MS / 1000);

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

function jwtConfig(extra: Partial<Extract<WsAuthConfig, { mode: 'signed-bearer-token' }>> = {}): WsAuthConfig {
  return { mode: 'signed-bearer-token', secret: secretBytes, maxClockSkewSeconds: 30, ...extra };
}

async function sign(claims: JWTPayload, options: { alg?: string; key?: string; header?: Record<string, unknown> } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...options.header })
    .sign(new TextEncoder().encode(options.key ?? SECRET));
}

/** A token with hand-written header/payload JSON (for lexemes jose would normalize), HS256-signed. */
function rawToken(headerJson: string, payloadJson: string, key = SECRET): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const bearer = (token: string) => `Bearer ${token}`;

async function reason(config: WsAuthConfig, header: string | string[] | undefined, nowMs = NOW_MS): Promise<string> {
  const outcome = await authorizeUpgrade(config, header, nowMs);
  return outcome.ok ? 'ok' : outcome.reason;
}

describe('authorization header', () => {
  const config: WsAuthConfig = { mode: 'capability-token', tokenSha256: sha256('my-capability-token') };

  test('mode none lets everything through', async () => {
    assert.equal(await reason({ mode: 'none' }, undefined), 'ok');
    assert.equal(await reason({ mode: 'none' }, 'Basic xyz'), 'ok');
  });

  test('missing header (absent or empty list)', async () => {
    assert.equal(await reason(config, undefined), R.missingToken);
    assert.equal(await reason(config, []), R.missingToken);
    assert.equal(R.missingToken, 'missing websocket bearer token');
  });

  test('scheme is ASCII case-insensitive; token trimmed; extra spaces after the first are trimmed', async () => {
    for (const h of [
      'Bearer my-capability-token',
      'bearer my-capability-token',
      'BEARER my-capability-token',
      'bEaReR my-capability-token',
      'Bearer  my-capability-token',
      'Bearer my-capability-token   ',
      'Bearer \tmy-capability-token\t',
    ]) {
      assert.equal(await reason(config, h), 'ok', h);
    }
  });

  test('malformed headers are "invalid authorization header"', async () => {
    assert.equal(R.invalidHeader, 'invalid authorization header');
    for (const h of [
      '',
      'Bearer',
      'Bearer    ',
      'Basic bXk6dG9rZW4=',
      'Bearerx my-capability-token',
      'Bearer:my-capability-token',
      'Bearer\tmy-capability-token', // a tab does not split scheme and token
      'Bearer my-capability-token\u00e9', // obs-text byte as Node presents it (latin1)
      'Bearer my-capability-token\x7f',
      'Bearer my-capability\x01token',
      'Basic x\u00e9',
    ]) {
      assert.equal(await reason(config, h), R.invalidHeader, JSON.stringify(h));
    }
  });

  test('a wrong capability token', async () => {
    assert.equal(R.invalidToken, 'invalid websocket bearer token');
    assert.equal(await reason(config, 'Bearer wrong'), R.invalidToken);
    assert.equal(await reason(config, 'Bearer my capability-token'), R.invalidToken);
    assert.equal(await reason(config, 'Bearer my-capability-token2'), R.invalidToken);
  });

  test('with duplicate headers the first one decides (observed on the reference)', async () => {
    assert.equal(await reason(config, ['Bearer my-capability-token', 'Bearer wrong']), 'ok');
    assert.equal(await reason(config, ['Bearer wrong', 'Bearer my-capability-token']), R.invalidToken);
    assert.equal(await reason(config, ['Basic x', 'Bearer my-capability-token']), R.invalidHeader);
    assert.equal(await reason(config, ['', 'Bearer my-capability-token']), R.invalidHeader);
    assert.equal(await reason(config, ['Bearer my-capability-token', 'Basic x']), 'ok');
  });

  test('a digest of the wrong length never matches and never throws', async () => {
    assert.equal(await reason({ mode: 'capability-token', tokenSha256: Buffer.alloc(16) }, 'Bearer x'), R.invalidToken);
  });
});

describe('signed bearer token: validity of the JWS', () => {
  const ok = { exp: NOW + 300 };

  test('a good HS256 token passes', async () => {
    assert.equal(await reason(jwtConfig(), bearer(await sign(ok))), 'ok');
  });

  test('anything wrong with the token is "invalid websocket jwt"', async () => {
    assert.equal(R.invalidJwt, 'invalid websocket jwt');
    // A token whose signature uses a URL-safe character, so the standard-alphabet variant differs.
    let good = await sign(ok);
    for (let n = 1; !/[-_]/.test(good.split('.')[2]!); n++) good = await sign({ ...ok, n });
    const [h, p, s] = good.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lastIndex = alphabet.indexOf(s[s.length - 1]!);
    const cases: Record<string, string> = {
      hs512: await sign(ok, { alg: 'HS512' }),
      hs384: await sign(ok, { alg: 'HS384' }),
      algNone: `${b64('{"alg":"none"}')}.${b64(JSON.stringify(ok))}.`,
      wrongKey: await sign(ok, { key: 'another-secret-another-secret-xx' }),
      tamperedSignature: `${h}.${p}.${s.slice(0, -3)}AAA`,
      tamperedPayload: `${h}.${b64(JSON.stringify({ exp: NOW + 301 }))}.${s}`,
      notAJwt: 'abc',
      twoParts: `${h}.${p}`,
      fourParts: `${good}.x`,
      paddedSignature: `${good}=`,
      paddedHeader: `${h}=.${p}.${s}`,
      standardAlphabet: `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`,
      // Same signature bytes, but non-zero unused trailing bits: base64 URL_SAFE_NO_PAD refuses it.
      nonCanonicalBits: `${h}.${p}.${s.slice(0, -1)}${alphabet[lastIndex ^ 1]}`,
      expMissing: await sign({ iss: 'x' }),
      expString: rawToken('{"alg":"HS256"}', `{"exp":"${NOW + 300}"}`),
      expFloat: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300}.0}`),
      expFraction: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300}.5}`),
      expExponent: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300}e0}`),
      expNegativeZero: rawToken('{"alg":"HS256"}', '{"exp":-0}'),
      expNull: rawToken('{"alg":"HS256"}', '{"exp":null}'),
      expBool: rawToken('{"alg":"HS256"}', '{"exp":true}'),
      expAboveI64: rawToken('{"alg":"HS256"}', '{"exp":9223372036854775808}'),
      expBelowI64: rawToken('{"alg":"HS256"}', '{"exp":-9223372036854775809}'),
      expDuplicate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"exp":${NOW + 300}}`),
      subDuplicate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"sub":"a","sub":"b"}`),
      issDuplicate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"iss":"a","iss":"a"}`),
      nbfString: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"nbf":"1"}`),
      nbfFloat: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"nbf":1.0}`),
      issNumber: await sign({ ...ok, iss: 5 as unknown as string }),
      issLoneSurrogate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"iss":"\\ud800"}`),
      audNumber: await sign({ ...ok, aud: 5 as unknown as string }),
      audMixedArray: await sign({ ...ok, aud: ['a', 5] as unknown as string[] }),
      payloadArray: rawToken('{"alg":"HS256"}', `[${NOW + 300}]`),
      payloadNotJson: rawToken('{"alg":"HS256"}', 'nope'),
      payloadBom: rawToken('{"alg":"HS256"}', `\ufeff{"exp":${NOW + 300}}`),
      payloadNotUtf8: (() => {
        const input = `${b64('{"alg":"HS256"}')}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}`;
        return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
      })(),
      headerArray: rawToken('["HS256"]', `{"exp":${NOW + 300}}`),
      headerKidNumber: rawToken('{"alg":"HS256","kid":5}', `{"exp":${NOW + 300}}`),
      headerTypNumber: rawToken('{"alg":"HS256","typ":5}', `{"exp":${NOW + 300}}`),
      headerX5cNumbers: rawToken('{"alg":"HS256","x5c":[1]}', `{"exp":${NOW + 300}}`),
      headerDuplicateAlg: rawToken('{"alg":"HS256","alg":"HS256"}', `{"exp":${NOW + 300}}`),
      headerBogusJwk: rawToken('{"alg":"HS256","jwk":{"a":1}}', `{"exp":${NOW + 300}}`),
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal(await reason(jwtConfig(), bearer(token)), R.invalidJwt, name);
    }
  });

  test('accepted shapes the reference also accepts', async () => {
    const cases: Record<string, string> = {
      escapedKey: rawToken('{"alg":"HS256"}', `{"\\u0065xp":${NOW + 300}}`),
      unknownDuplicate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"x":1,"x":2}`),
      iatDuplicate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"iat":1,"iat":2}`),
      nbfNull: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"nbf":null}`),
      issNull: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"iss":null}`),
      audNull: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"aud":null}`),
      expI64Max: rawToken('{"alg":"HS256"}', '{"exp":9223372036854775807}'),
      trailingWhitespace: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300}} \n`),
      subNumber: await sign({ exp: NOW + 300, sub: 5 as unknown as string }),
      iatString: await sign({ exp: NOW + 300, iat: 'x' as unknown as number }),
      otherLoneSurrogate: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"zz":"\\ud800"}`),
      noTyp: rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300}}`),
      kidNull: rawToken('{"alg":"HS256","kid":null}', `{"exp":${NOW + 300}}`),
      jwkOct: rawToken('{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}', `{"exp":${NOW + 300}}`),
      unknownHeader: rawToken('{"alg":"HS256","foo":[1,{"a":"}"}]}', `{"exp":${NOW + 300}}`),
      critListed: rawToken('{"alg":"HS256","crit":["zz"],"zz":1}', `{"exp":${NOW + 300}}`),
      b64False: rawToken('{"alg":"HS256","b64":false,"crit":["b64"]}', `{"exp":${NOW + 300}}`),
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal(await reason(jwtConfig(), bearer(token)), 'ok', name);
    }
  });
});

describe('signed bearer token: time and identity claims', () => {
  test('skew 10 (local-protocol.md §12.3): exp 5 s ago ok, 20 s ago expired', async () => {
    const config = jwtConfig({ maxClockSkewSeconds: 10 });
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 5 }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 20 }))), R.expiredJwt);
    assert.equal(R.expiredJwt, 'expired websocket jwt');
  });

  test('skew 10: nbf 5 s ahead ok, 60 s ahead not valid yet', async () => {
    const config = jwtConfig({ maxClockSkewSeconds: 10 });
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, nbf: NOW + 5 }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, nbf: NOW + 60 }))), R.jwtNotYetValid);
    assert.equal(R.jwtNotYetValid, 'websocket jwt is not valid yet');
  });

  test('default skew 30: exp 20 s past ok, 40 s past expired', async () => {
    const plan = planWsAuth({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'unused' });
    assert.equal(plan.mode === 'signed-bearer-token' && plan.maxClockSkewSeconds, 30n);
    const config = jwtConfig();
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 20 }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 40 }))), R.expiredJwt);
  });

  test('boundaries: now > exp + skew expires, now < nbf - skew is early, whole seconds', async () => {
    const config = jwtConfig({ maxClockSkewSeconds: 10 });
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 10 }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 11 }))), R.expiredJwt);
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, nbf: NOW + 10 }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, nbf: NOW + 11 }))), R.jwtNotYetValid);
    const zero = jwtConfig({ maxClockSkewSeconds: 0 });
    const token = bearer(await sign({ exp: NOW }));
    assert.equal(await reason(zero, token, NOW * 1000 + 999), 'ok'); // still second NOW
    assert.equal(await reason(zero, token, (NOW + 1) * 1000), R.expiredJwt);
  });

  test('extreme values saturate like Rust i64 instead of wrapping', async () => {
    const huge = jwtConfig({ maxClockSkewSeconds: Number.MAX_SAFE_INTEGER });
    assert.equal(await reason(huge, bearer(rawToken('{"alg":"HS256"}', '{"exp":9223372036854775807}'))), 'ok');
    const nbfMinHuge = rawToken('{"alg":"HS256"}', `{"exp":${NOW},"nbf":-9223372036854775808}`);
    assert.equal(await reason(huge, bearer(nbfMinHuge)), 'ok'); // nbf - skew saturates at i64::MIN
    const normal = jwtConfig();
    assert.equal(await reason(normal, bearer(rawToken('{"alg":"HS256"}', '{"exp":-9223372036854775808}'))), R.expiredJwt);
    const nbfMax = rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"nbf":9223372036854775807}`);
    const nbfMin = rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"nbf":-9223372036854775808}`);
    assert.equal(await reason(normal, bearer(nbfMax)), R.jwtNotYetValid);
    assert.equal(await reason(normal, bearer(nbfMin)), 'ok');
  });

  test('issuer and audience are ignored unless configured', async () => {
    const token = await sign({ exp: NOW + 300, iss: 'someone', aud: 'something' });
    assert.equal(await reason(jwtConfig(), bearer(token)), 'ok');
    assert.equal(await reason(jwtConfig(), bearer(await sign({ exp: NOW + 300 }))), 'ok');
  });

  test('issuer must match exactly when configured (missing or null is a mismatch)', async () => {
    const config = jwtConfig({ issuer: 'the-iss' });
    assert.equal(R.issuerMismatch, 'websocket jwt issuer mismatch');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, iss: 'the-iss' }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, iss: 'other' }))), R.issuerMismatch);
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, iss: ' the-iss ' }))), R.issuerMismatch);
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300 }))), R.issuerMismatch);
    assert.equal(await reason(config, bearer(rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"iss":null}`))), R.issuerMismatch);
  });

  test('audience: string or array containing it; missing, null or empty array is a mismatch', async () => {
    const config = jwtConfig({ audience: 'the-aud' });
    assert.equal(R.audienceMismatch, 'websocket jwt audience mismatch');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, aud: 'the-aud' }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, aud: ['x', 'the-aud'] }))), 'ok');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, aud: ['x'] }))), R.audienceMismatch);
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, aud: [] }))), R.audienceMismatch);
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, aud: 'nope' }))), R.audienceMismatch);
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300 }))), R.audienceMismatch);
    assert.equal(await reason(config, bearer(rawToken('{"alg":"HS256"}', `{"exp":${NOW + 300},"aud":null}`))), R.audienceMismatch);
  });

  test('check order when several things are wrong (observed on the reference)', async () => {
    const config = jwtConfig({ issuer: 'the-iss', audience: 'the-aud' });
    const good = await sign({ exp: NOW - 100 });
    const [h, p] = good.split('.') as [string, string];
    // invalid beats everything
    assert.equal(await reason(config, bearer(`${h}.${p}.AAAA`)), R.invalidJwt, 'bad signature + expired');
    assert.equal(await reason(config, bearer((await sign({ iss: 'x' })).slice(0, -2) + 'AA')), R.invalidJwt, 'bad signature + no exp');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 100, iss: 5 as unknown as string }))), R.invalidJwt, 'iss type + expired');
    // then exp, nbf, iss, aud
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 100, iss: 'x', aud: 'y' }))), R.expiredJwt, 'expired + iss + aud');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW - 100, nbf: NOW + 100 }))), R.expiredJwt, 'expired + nbf');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, nbf: NOW + 100, iss: 'x' }))), R.jwtNotYetValid, 'nbf + iss');
    assert.equal(await reason(config, bearer(await sign({ exp: NOW + 300, iss: 'x', aud: 'y' }))), R.issuerMismatch, 'iss + aud');
    // header problems come before the token
    assert.equal(await reason(config, 'Basic ' + (await sign({ exp: NOW - 100 }))), R.invalidHeader);
    assert.equal(await reason(config, undefined), R.missingToken);
    // duplicate Authorization headers: the first decides
    const valid = await sign({ exp: NOW + 300, iss: 'the-iss', aud: 'the-aud' });
    assert.equal(await reason(config, [bearer(valid), 'Bearer junk']), 'ok');
    assert.equal(await reason(config, ['Bearer junk', bearer(valid)]), R.invalidJwt);
  });
});

describe('topLevelMembers', () => {
  test('keeps order, duplicates and raw value text; decodes keys', () => {
    assert.deepEqual(topLevelMembers(' {"a" : 1 , "\\u0062":[1,{"x":"]}"}], "a":"s\\"}", "n":null, "f":-1.5e3}'), [
      ['a', '1'],
      ['b', '[1,{"x":"]}"}]'],
      ['a', '"s\\"}"'],
      ['n', 'null'],
      ['f', '-1.5e3'],
    ]);
    assert.deepEqual(topLevelMembers('{}'), []);
    assert.equal(topLevelMembers('[1]'), null);
    assert.equal(topLevelMembers('"x"'), null);
  });
});

describe('startup: flags → config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ws-auth-test-'));
    await writeFile(join(dir, 'token.txt'), '  my-capability-token\n');
    await writeFile(join(dir, 'token-unicode-ws.txt'), '\u0085\u00a0my-capability-token\u3000\n');
    await writeFile(join(dir, 'token-bom.txt'), '\ufeffmy-capability-token');
    await writeFile(join(dir, 'blank.txt'), ' \n\t\n');
    await writeFile(join(dir, 'empty.txt'), '');
    await writeFile(join(dir, 'bad-utf8.txt'), Buffer.from([0xff, 0xfe, 0x61]));
    await writeFile(join(dir, 'secret32.txt'), `${SECRET}\n`);
    await writeFile(join(dir, 'secret31.txt'), SECRET.slice(1));
    await writeFile(join(dir, 'secret-multibyte-32.txt'), `${'a'.repeat(30)}\u00e9`); // 31 chars, 32 bytes
    await writeFile(join(dir, 'secret-multibyte-31.txt'), `${'a'.repeat(29)}\u00e9`); // 30 chars, 31 bytes
    await mkdir(join(dir, 'sub'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function startupError(flags: WsAuthFlags, cwd = dir): Promise<string> {
    try {
      await loadWsAuth(flags, cwd);
    } catch (err) {
      assert.ok(err instanceof WsAuthStartupError, String(err));
      return err.message;
    }
    assert.fail('expected a startup error');
  }

  test('no --ws-auth and no flags: auth off', async () => {
    assert.deepEqual(await loadWsAuth({}), { mode: 'none' });
  });

  test('flag-combination errors, verbatim', async () => {
    const anyMode = 'websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`';
    for (const flags of [{ wsTokenFile: 'x' }, { wsTokenSha256: 'x' }, { wsSharedSecretFile: 'x' }, { wsIssuer: '' }, { wsAudience: 'a' }, { wsMaxClockSkewSeconds: 5n }]) {
      assert.equal(await startupError(flags), anyMode, JSON.stringify(flags, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)));
    }
    const jwtFlags =
      '`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`';
    assert.equal(await startupError({ wsAuth: 'capability-token', wsTokenFile: 'token.txt', wsIssuer: 'x' }), jwtFlags);
    assert.equal(await startupError({ wsAuth: 'capability-token', wsIssuer: '' }), jwtFlags); // presence counts, not content
    assert.equal(await startupError({ wsAuth: 'capability-token', wsMaxClockSkewSeconds: 5n }), jwtFlags);
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: 'token.txt', wsTokenSha256: 'abc' }),
      '`--ws-token-file` and `--ws-token-sha256` are mutually exclusive',
    );
    assert.equal(
      await startupError({ wsAuth: 'capability-token' }),
      '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set',
    );
    const tokenFlags = '`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, not `signed-bearer-token`';
    assert.equal(await startupError({ wsAuth: 'signed-bearer-token', wsTokenFile: 'token.txt' }), tokenFlags);
    assert.equal(await startupError({ wsAuth: 'signed-bearer-token', wsTokenSha256: 'abc', wsSharedSecretFile: 'nope' }), tokenFlags);
    assert.equal(
      await startupError({ wsAuth: 'signed-bearer-token' }),
      '`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set',
    );
  });

  test('--ws-token-sha256: 64 hex digits, either case, surrounding whitespace ignored', async () => {
    const digest = sha256('my-capability-token');
    const hex = digest.toString('hex');
    for (const value of [hex, hex.toUpperCase(), ` ${hex}\t`]) {
      assert.deepEqual(await loadWsAuth({ wsAuth: 'capability-token', wsTokenSha256: value }), { mode: 'capability-token', tokenSha256: digest });
    }
    const bad = '--ws-token-sha256 must be a 64-character hex SHA-256 digest';
    for (const value of ['', 'abc', `${hex.slice(0, 63)}g`, hex.slice(0, 63), `${hex}0`, `0x${hex.slice(2)}`, `${hex.slice(0, 32)} ${hex.slice(32)}`, `${hex.slice(0, 62)}\u00e9`]) {
      assert.equal(await startupError({ wsAuth: 'capability-token', wsTokenSha256: value }), bad, value);
    }
  });

  test('token file: trimmed (Rust whitespace, BOM kept), hashed; relative paths resolved', async () => {
    const expected = { mode: 'capability-token', tokenSha256: sha256('my-capability-token') };
    assert.deepEqual(await loadWsAuth({ wsAuth: 'capability-token', wsTokenFile: join(dir, 'token.txt') }), expected);
    assert.deepEqual(await loadWsAuth({ wsAuth: 'capability-token', wsTokenFile: 'token.txt' }, dir), expected);
    assert.deepEqual(await loadWsAuth({ wsAuth: 'capability-token', wsTokenFile: './sub/../token.txt' }, dir), expected);
    assert.deepEqual(await loadWsAuth({ wsAuth: 'capability-token', wsTokenFile: 'token-unicode-ws.txt' }, dir), expected);
    assert.deepEqual(await loadWsAuth({ wsAuth: 'capability-token', wsTokenFile: 'token-bom.txt' }, dir), {
      mode: 'capability-token',
      tokenSha256: sha256('\ufeffmy-capability-token'),
    });
  });

  test('token file errors name the absolute path and render the OS error like Rust (musl)', async () => {
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: 'missing.txt' }),
      `failed to read websocket auth secret ${join(dir, 'missing.txt')}: No such file or directory (os error 2)`,
    );
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: './sub/../missing.txt' }),
      `failed to read websocket auth secret ${join(dir, 'missing.txt')}: No such file or directory (os error 2)`,
    );
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: 'sub' }),
      `failed to read websocket auth secret ${join(dir, 'sub')}: Is a directory (os error 21)`,
    );
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: 'bad-utf8.txt' }),
      `failed to read websocket auth secret ${join(dir, 'bad-utf8.txt')}: stream did not contain valid UTF-8`,
    );
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: 'blank.txt' }),
      `websocket auth secret ${join(dir, 'blank.txt')} must not be empty`,
    );
    assert.equal(
      await startupError({ wsAuth: 'capability-token', wsTokenFile: 'empty.txt' }),
      `websocket auth secret ${join(dir, 'empty.txt')} must not be empty`,
    );
  });

  test('shared secret: at least 32 bytes (UTF-8 bytes, not characters), trimmed', async () => {
    const config = await loadWsAuth({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret32.txt' }, dir);
    assert.deepEqual(config, { mode: 'signed-bearer-token', secret: new Uint8Array(Buffer.from(SECRET)), maxClockSkewSeconds: 30 });
    const multibyte = await loadWsAuth({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret-multibyte-32.txt' }, dir);
    assert.equal(multibyte.mode === 'signed-bearer-token' && multibyte.secret.length, 32);
    for (const file of ['secret31.txt', 'secret-multibyte-31.txt']) {
      assert.equal(
        await startupError({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: file }),
        `signed websocket bearer secret ${join(dir, file)} must be at least 32 bytes`,
      );
    }
    assert.equal(
      await startupError({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'blank.txt' }),
      `websocket auth secret ${join(dir, 'blank.txt')} must not be empty`,
    );
    assert.equal(
      await startupError({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'nope' }),
      `failed to read websocket auth secret ${join(dir, 'nope')}: No such file or directory (os error 2)`,
    );
  });

  test('clock skew above i64::MAX fails, but only after the secret file checks', async () => {
    const big = 9223372036854775808n;
    const tooBig = 'websocket auth clock skew must fit in a signed 64-bit integer';
    assert.equal(await startupError({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret32.txt', wsMaxClockSkewSeconds: big }), tooBig);
    assert.match(await startupError({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'nope', wsMaxClockSkewSeconds: big }), /^failed to read/);
    assert.match(await startupError({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret31.txt', wsMaxClockSkewSeconds: big }), /at least 32 bytes$/);
    const max = await loadWsAuth(
      { wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret32.txt', wsMaxClockSkewSeconds: big - 1n },
      dir,
    );
    assert.equal(max.mode === 'signed-bearer-token' && max.maxClockSkewSeconds, Number(big - 1n));
  });

  test('issuer / audience are trimmed, and blank means "not checked"', async () => {
    const config = await loadWsAuth(
      { wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret32.txt', wsIssuer: ' the-iss ', wsAudience: '\tthe-aud\u00a0', wsMaxClockSkewSeconds: 7n },
      dir,
    );
    assert.deepEqual(config, {
      mode: 'signed-bearer-token',
      secret: new Uint8Array(Buffer.from(SECRET)),
      maxClockSkewSeconds: 7,
      issuer: 'the-iss',
      audience: 'the-aud',
    });
    const blank = await loadWsAuth({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret32.txt', wsIssuer: '', wsAudience: '   ' }, dir);
    assert.equal('issuer' in blank, false);
    assert.equal('audience' in blank, false);
  });

  test('planWsAuth reads nothing; readWsAuthPlan does the IO', async () => {
    const plan = planWsAuth({ wsAuth: 'capability-token', wsTokenFile: 'does-not-exist' });
    assert.deepEqual(plan, { mode: 'capability-token', source: { kind: 'file', path: 'does-not-exist' } });
    await assert.rejects(readWsAuthPlan(plan, dir), WsAuthStartupError);
  });

  test('a config loaded from files authorizes real upgrades end to end', async () => {
    const cap = await loadWsAuth({ wsAuth: 'capability-token', wsTokenFile: 'token.txt' }, dir);
    assert.equal(await reason(cap, 'Bearer my-capability-token'), 'ok');
    const jwt = await loadWsAuth({ wsAuth: 'signed-bearer-token', wsSharedSecretFile: 'secret32.txt', wsIssuer: 'me' }, dir);
    assert.equal(await reason(jwt, bearer(await sign({ exp: NOW + 60, iss: 'me' }))), 'ok');
    assert.equal(await reason(jwt, bearer(await sign({ exp: NOW + 60, iss: 'me' }, { key: `${SECRET}x` }))), R.invalidJwt);
  });
});

test('rustTrim trims Unicode White_Space (incl. U+0085) but not U+FEFF', () => {
  assert.equal(rustTrim('\u0085\u00a0\u2003 x y \t\n\u3000\u2029'), 'x y');
  assert.equal(rustTrim('\ufeffx\ufeff'), '\ufeffx\ufeff');
  assert.equal(rustTrim(' \u000b\u000c\r'), '');
});
