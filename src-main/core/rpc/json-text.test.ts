/**
 * Tests for json-text.ts.
 *
 * Every expected string in the tables below was produced by the reference binary
 * (`node_modules/.bin/codex exec-server` 0.169.0): each input was sent as one raw WebSocket text
 * frame (BINARY: as a binary frame) with RpcClient.sendRaw, and the reply's
 * `failed to parse websocket JSON-RPC message from exec-server websocket <ip:port>: ` prefix was
 * removed. The last test re-sends every input to the binary and checks the tables still hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JsonFloat,
  inputKeyOrder,
  parseJsonBytes,
  parseJsonText,
  parseJsonTextSlow,
  stringifyJson,
} from './json-text.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';
import { referenceAvailable, startServer } from '../../testkit/server-process.ts';

/** A request whose params nest `n` arrays. */
const nest = (n: number) => '{"id":1,"method":"nope","params":' + '['.repeat(n) + ']'.repeat(n) + '}';
/** A request whose params nest `n` objects. */
const nestObj = (n: number) => '{"id":1,"method":"nope","params":' + '{"a":'.repeat(n) + '1' + '}'.repeat(n) + '}';

const SYNTAX_ERRORS: Array<[string, string]> = [
  ["", "EOF while parsing a value at line 1 column 0"],
  [" ", "EOF while parsing a value at line 1 column 1"],
  ["\n\n", "EOF while parsing a value at line 3 column 0"],
  ["{", "EOF while parsing an object at line 1 column 1"],
  ["{\"id\":1,\"method\":\"x\"", "EOF while parsing an object at line 1 column 20"],
  ["nul", "EOF while parsing a value at line 1 column 3"],
  ["nulx", "expected ident at line 1 column 4"],
  ["tru", "EOF while parsing a value at line 1 column 3"],
  ["t", "EOF while parsing a value at line 1 column 1"],
  ["falsy", "expected ident at line 1 column 5"],
  ["n", "EOF while parsing a value at line 1 column 1"],
  ["x", "expected value at line 1 column 1"],
  ["{\"a\"}", "expected `:` at line 1 column 5"],
  ["{\"a\" 1}", "expected `:` at line 1 column 6"],
  ["{\"a\":1 \"b\":2}", "expected `,` or `}` at line 1 column 8"],
  ["[1 2]", "expected `,` or `]` at line 1 column 4"],
  ["{\"a\":[1,2}", "expected `,` or `]` at line 1 column 10"],
  ["{a:1}", "key must be a string at line 1 column 2"],
  ["{1:1}", "key must be a string at line 1 column 2"],
  ["{\"a\":1,}", "trailing comma at line 1 column 8"],
  ["[1,]", "trailing comma at line 1 column 4"],
  ["{,}", "key must be a string at line 1 column 2"],
  ["{\"a\":}", "expected value at line 1 column 6"],
  ["{\"a\":\"abc", "EOF while parsing a string at line 1 column 9"],
  ["{\"a\":\"\\q\"}", "invalid escape at line 1 column 8"],
  ["{\"a\":\"\\u12\"}", "invalid escape at line 1 column 12"],
  ["{\"a\":\"\\u12G4\"}", "invalid escape at line 1 column 12"],
  ["{\"a\":\"\\ud800\"}", "unexpected end of hex escape at line 1 column 13"],
  ["{\"a\":\"\\ud800\\u0041\"}", "lone leading surrogate in hex escape at line 1 column 18"],
  ["{\"a\":\"\\udc00\"}", "lone leading surrogate in hex escape at line 1 column 12"],
  ["{\"a\":\"\\ud800x\"}", "unexpected end of hex escape at line 1 column 13"],
  ["{\"a\":\"\\ud800\\ud800\"}", "lone leading surrogate in hex escape at line 1 column 18"],
  ["{\"a\":\"\\ud800\\n\"}", "unexpected end of hex escape at line 1 column 14"],
  ["{\"a\":\"\\ud800\\", "EOF while parsing a string at line 1 column 13"],
  ["{\"a\":\"\\ud800", "EOF while parsing a string at line 1 column 12"],
  ["{\"a\":\"\u0001\"}", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 7"],
  ["{\"a\":\"\t\"}", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 7"],
  ["{\"a\":\"\u001f\"}", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 7"],
  ["{\"a\u0001\":1}", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 4"],
  ["{\"a\":01}", "invalid number at line 1 column 7"],
  ["{\"a\":-}", "invalid number at line 1 column 7"],
  ["{\"a\":1.}", "invalid number at line 1 column 8"],
  ["{\"a\":1.e5}", "invalid number at line 1 column 8"],
  ["{\"a\":.5}", "expected value at line 1 column 6"],
  ["{\"a\":1e}", "invalid number at line 1 column 8"],
  ["{\"a\":1e+}", "invalid number at line 1 column 9"],
  ["{\"a\":+1}", "expected value at line 1 column 6"],
  ["{\"a\":NaN}", "expected value at line 1 column 6"],
  ["{\"a\":Infinity}", "expected value at line 1 column 6"],
  ["{\"a\":-Infinity}", "invalid number at line 1 column 7"],
  ["{\"a\":-01}", "invalid number at line 1 column 8"],
  ["{\"a\":0.5e-}", "invalid number at line 1 column 11"],
  ["{\"a\":00}", "invalid number at line 1 column 7"],
  ["{\"a\":-a}", "invalid number at line 1 column 7"],
  ["{\"a\":1.5.5}", "expected `,` or `}` at line 1 column 9"],
  ["{\"a\":1e5e5}", "expected `,` or `}` at line 1 column 9"],
  ["{\"a\":- 1}", "invalid number at line 1 column 7"],
  ["{\"a\":1", "EOF while parsing an object at line 1 column 6"],
  ["{\"a\":1.", "EOF while parsing a value at line 1 column 7"],
  ["{\"a\":-", "EOF while parsing a value at line 1 column 6"],
  ["{\"a\":1e", "EOF while parsing a value at line 1 column 7"],
  ["{\"a\":1e-", "EOF while parsing a value at line 1 column 8"],
  ["{\"a\":\"\\uDEAD\"}", "lone leading surrogate in hex escape at line 1 column 12"],
  ["{\"a\":\"\\uD800\\uDBFF\"}", "lone leading surrogate in hex escape at line 1 column 18"],
  ["{\"a\":\"\\U0041\"}", "invalid escape at line 1 column 8"],
  ["{\"a\": fals}", "expected ident at line 1 column 11"],
  ["{\"a\": nulL}", "expected ident at line 1 column 10"],
  ["{\"a\":tRue}", "expected ident at line 1 column 7"],
  ["{\"a\":n}", "expected ident at line 1 column 7"],
  ["{\"a\":nullx}", "expected `,` or `}` at line 1 column 10"],
  ["{\"a\":1x}", "expected `,` or `}` at line 1 column 7"],
  ["{\"a\":[1,]]}", "trailing comma at line 1 column 9"],
  ["{\"a\":[,1]}", "expected value at line 1 column 7"],
  ["{\"a\":{\"b\":1,}}", "trailing comma at line 1 column 13"],
  ["{\"a\":1,", "EOF while parsing a value at line 1 column 7"],
  ["{\"a\":1]", "expected `,` or `}` at line 1 column 7"],
  ["[1}", "expected `,` or `]` at line 1 column 3"],
  ["{\"a\" : 1 , \"b\"", "EOF while parsing an object at line 1 column 14"],
  ["[1,2", "EOF while parsing a list at line 1 column 4"],
  ["{\"a\":[", "EOF while parsing a list at line 1 column 6"],
  ["{\"a\":\"\\", "EOF while parsing a string at line 1 column 7"],
  ["{\"a\":\"\\u", "EOF while parsing a string at line 1 column 8"],
  ["{\"a\":\"\\u00", "EOF while parsing a string at line 1 column 10"],
  ["}", "expected value at line 1 column 1"],
  ["]", "expected value at line 1 column 1"],
  [":", "expected value at line 1 column 1"],
  [",", "expected value at line 1 column 1"],
  ["﻿{}", "expected value at line 1 column 1"],
  [" {}", "expected value at line 1 column 1"],
  ["\f{}", "expected value at line 1 column 1"],
  ["\u000b{}", "expected value at line 1 column 1"],
  ["{'a':1}", "key must be a string at line 1 column 2"],
  ["/*c*/{}", "expected value at line 1 column 1"],
  ["{\n\"a\":\n}", "expected value at line 3 column 1"],
  ["{\r\n\"a\":\r\n}", "expected value at line 3 column 1"],
  ["{\"é\":1,}", "trailing comma at line 1 column 9"],
  ["{\"€😀\":1 x}", "expected `,` or `}` at line 1 column 14"],
  ["{\n  \"id\": 1,\n  \"method\": \"x\",\n  \"params\": {\n    \"a\": [1, 2,]\n  }\n}", "trailing comma at line 5 column 16"],
  ["{\"id\":1,\"id\":2,\"method\":\"nope\"}", "duplicate JSON object key `id` at line 1 column 12"],
  ["{\"id\":1,\"method\":\"nope\",\"params\":{\"a\":1,\"a\":2}}", "duplicate JSON object key `a` at line 1 column 43"],
  ["{\"id\":1,\"method\":\"nope\",\"params\":[{\"a\":1,\"a\":2}]}", "duplicate JSON object key `a` at line 1 column 44"],
  ["{\"id\":1,\"i\\u0064\":2,\"method\":\"nope\"}", "duplicate JSON object key `id` at line 1 column 17"],
  ["{\"\":1,\"\":2}", "duplicate JSON object key `` at line 1 column 8"],
  ["{\"a\\nb\":1,\"a\\nb\":2}", "duplicate JSON object key `a\nb` at line 1 column 16"],
  ["{\"a\":1,\"a\":}", "duplicate JSON object key `a` at line 1 column 10"],
  [nest(127), "recursion limit exceeded at line 1 column 160"],
  [nest(128), "recursion limit exceeded at line 1 column 160"],
  [nestObj(127), "recursion limit exceeded at line 1 column 664"],
  ['['.repeat(200), "recursion limit exceeded at line 1 column 128"],
  ['['.repeat(127) + 'x', "expected value at line 1 column 128"],
  ['['.repeat(128) + 'x', "recursion limit exceeded at line 1 column 128"],
];

const TRAILING: Array<[string, string]> = [
  ["{\"id\":1,\"method\":\"nope\"} garbage", "trailing characters at line 1 column 26"],
  ["{\"id\":2,\"method\":\"nope\"}\n{\"id\":3,\"method\":\"nope\"}", "trailing characters at line 2 column 1"],
  ["{\"id\":4,\"method\":\"nope\"}}", "trailing characters at line 1 column 25"],
];

/** [input, what the reference answered instead of a syntax error] */
const ACCEPTED: Array<[string, string]> = [
  ["{\"a\":\"\\u0000\",\"b\":\"\"}", "missing field `error`"],
  [nest(126), "<id 1: exec-server stub does not implement `nope` yet>"],
  ["{} {}", "missing field `error`"],
  ["{}x", "missing field `error`"],
  ["{\"a\":1}//c", "missing field `error`"],
  ["[1,2]x", "expected a JSON-RPC object"],
  ["{\"a\":1e400}", "missing field `error`"],
  ["{\"a\":-1e400}", "missing field `error`"],
  ['{"a":1' + '0'.repeat(400) + '}', "missing field `error`"],
  ["{\"a\":\"\\ud83d\\ude00\"}", "missing field `error`"],
  ["{\"__proto__\":1}", "missing field `error`"],
  ["\t{}  ", "missing field `error`"],
];

const BINARY: Array<[number[], string]> = [
  [[123,34,105,100,34,58,49,44,34,109,101,116,104,111,100,34,58,34,255,34,125], "invalid unicode code point at line 1 column 20"],
  [[123,34,105,100,34,58,49,44,34,109,101,116,104,111,100,34,58,34,97,98,195,34,125], "invalid unicode code point at line 1 column 22"],
  [[255,123,125], "expected value at line 1 column 1"],
  [[123,34,97,34,58,49,255], "expected `,` or `}` at line 1 column 7"],
  [[123,34,97,34,58,49,44,34,237,160,128,34,58,49,44,125], "invalid unicode code point at line 1 column 12"],
  [[123,34,97,34,58,34,255,92,113,34,125], "invalid escape at line 1 column 9"],
  [[123,34,97,34,58,34,195,169,34,44,125], "trailing comma at line 1 column 11"],
  [[123,34,97,34,58,49,125,32,255], "missing field `error`"],
];

function describe(r: ReturnType<typeof parseJsonText>): string {
  if (r.ok) return '<ok>';
  return 'valueBeforeTrailing' in r ? `<trailing> ${r.error}` : r.error;
}

test('syntax errors carry serde_json reasons and positions (fast and slow path)', () => {
  assert.ok(SYNTAX_ERRORS.length >= 40);
  for (const [input, expected] of SYNTAX_ERRORS) {
    assert.equal(describe(parseJsonText(input)), expected, JSON.stringify(input));
    assert.equal(describe(parseJsonTextSlow(input)), expected, `slow: ${JSON.stringify(input)}`);
  }
});

test('trailing characters: first value is returned, the error is reported after the envelope check', () => {
  for (const [input, expected] of TRAILING) {
    const r = parseJsonText(input);
    assert.equal(describe(r), `<trailing> ${expected}`, JSON.stringify(input));
    assert.ok(!r.ok && r.valueBeforeTrailing !== undefined);
  }
  // The reference answered the envelope error, not "trailing characters", for these:
  const r = parseJsonText('[1,2]x');
  assert.ok(!r.ok && 'valueBeforeTrailing' in r);
  assert.deepEqual(r.valueBeforeTrailing, [1, 2]);
  const r2 = parseJsonText('{}x');
  assert.ok(!r2.ok && 'valueBeforeTrailing' in r2);
  assert.deepEqual(r2.valueBeforeTrailing, {});
});

test('texts serde_json accepts are accepted (the reference answered with an envelope error or ran them)', () => {
  for (const [input] of ACCEPTED) {
    const d = describe(parseJsonText(input));
    assert.ok(d === '<ok>' || d.startsWith('<trailing> trailing characters'), `${JSON.stringify(input)} → ${d}`);
  }
});

test('binary frames: invalid UTF-8 inside strings is reported after the closing quote', () => {
  for (const [bytes, expected] of BINARY) {
    const d = describe(parseJsonBytes(Buffer.from(bytes)));
    if (expected === 'missing field `error`') assert.ok(d === '<ok>' || d.startsWith('<trailing>'), d);
    else assert.equal(d, expected, Buffer.from(bytes).toString('latin1'));
  }
  // valid UTF-8 binary frames parse like text
  assert.deepEqual(parseJsonBytes(Buffer.from('{"a":"é"}')), { ok: true, value: { a: 'é' } });
  assert.deepEqual(parseJsonBytes(new Uint8Array(Buffer.from('[1]'))), { ok: true, value: [1] });
});

test('number representation: safe integers, bigint, JsonFloat; -0 is 0', () => {
  const cases: Array<[string, unknown]> = [
    ['1', 1],
    ['-5', -5],
    ['-0', 0],
    ['9007199254740991', 9007199254740991],
    ['9007199254740993', 9007199254740993n],
    ['-9223372036854775808', -9223372036854775808n],
    ['18446744073709551616', 18446744073709551616n],
  ];
  for (const [text, expected] of cases) {
    for (const r of [parseJsonText(`{"v":${text}}`), parseJsonTextSlow(`{"v":${text}}`)]) {
      assert.ok(r.ok);
      const v = (r.value as { v: unknown }).v;
      assert.equal(typeof v, typeof expected, text);
      assert.ok(Object.is(v, expected) || v === expected, `${text}: ${String(v)}`);
    }
  }
  for (const text of ['1.0', '1e3', '1E3', '0.5', '-0.0', '1e400', '1.5e-7']) {
    const r = parseJsonText(`[${text}]`);
    assert.ok(r.ok);
    const v = (r.value as unknown[])[0];
    assert.ok(v instanceof JsonFloat, text);
    assert.equal(v.text, text);
  }
  const big = parseJsonText('{"x":1e400}');
  assert.ok(big.ok);
  assert.equal(((big.value as { x: JsonFloat }).x).value, Infinity);
});

test('request ids beyond 2^53 survive parse → stringify exactly', () => {
  for (const id of ['9223372036854775807', '-9223372036854775808', '9007199254740993', '12345678901234567890123']) {
    const r = parseJsonText(`{"id":${id},"method":"m","params":{"f":1.50,"g":[1e2]}}`);
    assert.ok(r.ok);
    const out = stringifyJson({ error: { code: -32601, message: 'x' }, id: (r.value as { id: unknown }).id });
    assert.equal(out, `{"error":{"code":-32601,"message":"x"},"id":${id}}`);
    assert.equal(stringifyJson(r.value), `{"id":${id},"method":"m","params":{"f":1.50,"g":[1e2]}}`);
  }
  assert.equal(stringifyJson({ a: undefined, b: [undefined], c: 'é\n' }), '{"b":[null],"c":"é\\n"}');
});

test('__proto__ keys are own data properties and never touch prototypes', () => {
  for (const parse of [parseJsonText, parseJsonTextSlow]) {
    const r = parse('{"__proto__":{"polluted":true},"a":{"__proto__":1}}');
    assert.ok(r.ok);
    const v = r.value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.ok(Object.hasOwn(v, '__proto__'));
    assert.deepEqual(Object.keys(v), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((v.a as Record<string, unknown>)['__proto__'], 1);
  }
  // a duplicate __proto__ is still a duplicate (expected text from the binary)
  assert.equal(describe(parseJsonText('{"__proto__":1,"__proto__":2}')), 'duplicate JSON object key `__proto__` at line 1 column 26');
});

test('input key order is kept for objects with array-index-like keys', () => {
  const r = parseJsonText('{"b":1,"10":2,"a":3,"2":4}');
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.value as object), ['2', '10', 'b', 'a']);
  assert.deepEqual(inputKeyOrder(r.value as object), ['b', '10', 'a', '2']);
  const plain = parseJsonText('{"b":1,"a":2}');
  assert.ok(plain.ok);
  assert.deepEqual(inputKeyOrder(plain.value as object), ['b', 'a']);
});

test('escaped keys and surrogate pairs', () => {
  assert.deepEqual(parseJsonText('{"\\u0061":"\\ud83d\\ude00\\/\\b"}'), { ok: true, value: { a: '😀/\b' } });
  // expected text from the binary
  assert.equal(describe(parseJsonText('{"a":1,"\\u0061":2}')), 'duplicate JSON object key `a` at line 1 column 15');
  assert.equal(describe(parseJsonText('["\\\\ud800"]')), '<ok>'); // an escaped backslash, not an escape
});

test('fast path and byte parser agree on valid documents', () => {
  const docs = [
    '{}', '[]', '"x"', 'null', 'true', '0', '-12', '[1,[2,[3,{"a":[{}]}]]]',
    '{"id":"x","method":"process/write","params":{"processId":"p","chunk":"aGVsbG8=","writeId":"w"}}',
    ' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { "c" : null } } \n',
    '{"s":"tab\\tnl\\nquote\\"bs\\\\ uni\\u00e9 \\u2028"}',
    '{"k":"日本語","🙂":["é",{"":""}]}',
    nest(126),
  ];
  for (const d of docs) assert.deepEqual(parseJsonText(d), parseJsonTextSlow(d), d);
});

test('multi-MiB frames take the fast path', () => {
  const chunk = Buffer.alloc(6 * 1024 * 1024, 7).toString('base64');
  const text = JSON.stringify({ id: 1, method: 'process/write', params: { processId: 'p', chunk, writeId: 'w' } });
  const t0 = performance.now();
  const r = parseJsonText(text);
  const elapsed = performance.now() - t0;
  assert.ok(r.ok);
  assert.equal((r.value as { params: { chunk: string } }).params.chunk.length, chunk.length);
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  // the slow path also copes (e.g. when a float elsewhere forces it)
  const slow = parseJsonText(text.replace('"id":1', '"id":1.5'));
  assert.ok(slow.ok);
});

test('tables still match the reference binary', { skip: !referenceAvailable() && 'reference binary not installed' }, async () => {
  const server = await startServer('reference');
  try {
    const client = await RpcClient.connect(server.url);
    const ask = async (data: string | Buffer, binary: boolean): Promise<string> => {
      const before = client.frames.length;
      client.sendRaw(data, binary);
      const reply = await client.waitFor((m) => m.id !== undefined && client.frames.length > before);
      if (reply.id !== -1) return `<id ${reply.id}: ${reply.error?.message ?? 'ok'}>`;
      return reply.error!.message.replace(/^failed to parse websocket JSON-RPC message from exec-server websocket [0-9.:]+: /, '');
    };
    for (const [input, expected] of [...SYNTAX_ERRORS, ...TRAILING, ...ACCEPTED]) {
      assert.equal(await ask(input, false), expected, JSON.stringify(input));
    }
    for (const [bytes, expected] of BINARY) assert.equal(await ask(Buffer.from(bytes), true), expected);
    client.close();
  } finally {
    await server.stop();
  }
});
