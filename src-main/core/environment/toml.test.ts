/**
 * Tests for toml.ts. Every expected value was recorded from the reference binary (0.169.0): the
 * document was written to $CODEX_HOME/config.toml and read back with environmentConfig/read
 * selecting its top-level keys; errors are the `<line>:<col>: <message>` part of the reference's
 * `failed to load executor-local config: <file>:<line>:<col>: <message>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, parseToml, stringifyToml, TomlParseError } from './toml.ts';
import { selectedToml } from './config-read.ts';

/** [string value, `v = <value>` as the reference re-serializes it] */
const STRINGS: Array<[string, string]> = [
  ["plain", "v = \"plain\"\n"],
  ["", "v = \"\"\n"],
  ["a'b", "v = \"a'b\"\n"],
  ["a'''b", "v = \"a'''b\"\n"],
  ["ends'", "v = \"ends'\"\n"],
  ["a\"b", "v = 'a\"b'\n"],
  ["a\"\"\"b", "v = 'a\"\"\"b'\n"],
  ["a\"\"\"\"b", "v = 'a\"\"\"\"b'\n"],
  ["ends\"", "v = 'ends\"'\n"],
  ["back\\slash", "v = 'back\\slash'\n"],
  ["back\\slash'q", "v = '''back\\slash'q'''\n"],
  ["nl\nx", "v = \"\"\"\nnl\nx\"\"\"\n"],
  ["nl\n", "v = \"\"\"\nnl\n\"\"\"\n"],
  ["\nlead", "v = \"\"\"\n\nlead\"\"\"\n"],
  ["nl\n\"\"\"q", "v = '''\nnl\n\"\"\"q'''\n"],
  ["nl\n\\b", "v = '''\nnl\n\\b'''\n"],
  ["cr\rx", "v = \"cr\\rx\"\n"],
  ["crlf\r\nx", "v = \"\"\"\ncrlf\\r\nx\"\"\"\n"],
  ["tab\tx", "v = \"tab\\tx\"\n"],
  ["bell\u0007", "v = \"bell\\u0007\"\n"],
  ["del\u007f", "v = \"del\\u007F\"\n"],
  ["uni \u00e9 \u2603 \ud83d\ude00", "v = \"uni \u00e9 \u2603 \ud83d\ude00\"\n"],
  ["'''", "v = \"'''\"\n"],
  ["\"\"\"", "v = '\"\"\"'\n"],
  ["q'\"", "v = \"\"\"q'\"\"\"\"\n"],
  ["ends\n\"", "v = \"\"\"\nends\n\"\"\"\"\n"],
  ["\\", "v = '\\'\n"],
  ["'", "v = \"'\"\n"],
  ["\"", "v = '\"'\n"],
  ["x\u0000y", "v = \"x\\u0000y\"\n"],
  ["bs\\\nnl", "v = '''\nbs\\\nnl'''\n"],
  ["ff\f", "v = \"ff\\f\"\n"],
  ["b\bx", "v = \"b\\bx\"\n"],
  ["x\"\"\"\r", "v = \"x\\\"\\\"\\\"\\r\"\n"],
  ["'''\n\r\"\"\"", "v = \"\"\"\n'''\n\\r\"\"\\\"\"\"\"\n"],
  ["a\"\"\"\"b\n\u0001", "v = \"\"\"\na\"\"\\\"\"b\n\\u0001\"\"\"\n"],
];

/** [key, `<key> = 1` as re-serialized] */
const KEYS: Array<[string, string]> = [
  ["bare_key-1", "bare_key-1 = 1\n"],
  ["with space", "\"with space\" = 1\n"],
  ["a.b", "\"a.b\" = 1\n"],
  ["", "\"\" = 1\n"],
  ["\u00e9", "\"\u00e9\" = 1\n"],
  ["a'b", "\"a'b\" = 1\n"],
  ["a\"b", "'a\"b' = 1\n"],
  ["a\\b", "'a\\b' = 1\n"],
  ["1234", "1234 = 1\n"],
  ["nl\nk", "\"nl\\nk\" = 1\n"],
  ["tab\tk", "\"tab\\tk\" = 1\n"],
  ["a'\"b", "\"a'\\\"b\" = 1\n"],
];

/** [document, re-serialized selection of its top-level keys] */
const DOCS: Array<[string, string]> = [
  ["zeta = 1\nalpha = 2\n[t]\nx = 1\n", "zeta = 1\nalpha = 2\n\n[t]\nx = 1\n"],
  ["a = {x = 1}\nb = 2\n", "b = 2\n\n[a]\nx = 1\n"],
  ["[empty]\n", "[empty]\n"],
  ["[a.b]\n", "[a.b]\n"],
  ["x = []\ny = [[1, 2], [3]]\nz = [[{a = 1}]]\nw = [{}]\nv = [{}, {}]\nq = [{a=1}, 2]\n", "x = []\ny = [[1, 2], [3]]\nz = [[{ a = 1 }]]\nq = [{ a = 1 }, 2]\n\n[[w]]\n\n[[v]]\n\n[[v]]\n"],
  ["i = { k = { j = 1 }, \"q k\" = [1, {z = \"s\"}] }\n", "[i]\n\"q k\" = [1, { z = \"s\" }]\n\n[i.k]\nj = 1\n"],
  ["[[aot]]\nx = 1\n[[aot.list]]\ny = 2\n[[aot.list]]\ny = 3\n[aot.tbl]\nz = 1\n[[aot]]\n", "[[aot]]\nx = 1\n\n[[aot.list]]\ny = 2\n\n[[aot.list]]\ny = 3\n\n[aot.tbl]\nz = 1\n\n[[aot]]\n"],
  ["n = [0xDEAD, 0o17, 0b11, -0, +5, 1_000, 9223372036854775807, -9223372036854775808]\nf = [1.0, -0.0, 0.1, 1e-7, 1e21, 5e-324, 123456789.123, -inf, nan, -nan, 3.0e2, 1e16, 1e15]\n", "n = [57005, 15, 3, 0, 5, 1000, 9223372036854775807, -9223372036854775808]\nf = [1.0, -0.0, 0.1, 0.0000001, 1000000000000000000000.0, 0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005, 123456789.123, -inf, nan, nan, 300.0, 10000000000000000.0, 1000000000000000.0]\n"],
  ["d = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00z, 1979-05-27T00:32:00.999999-07:00, 1979-05-27T07:32:00, 1979-05-27, 07:32:00, 1979-05-27T07:32:00.123456789123Z, 1979-05-27T07:32:00.100Z, 07:32]\n", "d = [1979-05-27T07:32:00Z, 1979-05-27T07:32:00Z, 1979-05-27T00:32:00.999999-07:00, 1979-05-27T07:32:00, 1979-05-27, 07:32:00, 1979-05-27T07:32:00.123456789Z, 1979-05-27T07:32:00.1Z, 07:32:00]\n"],
  ["x = [{a = [1]}, {b = {c = 2}}]\n", "[[x]]\na = [1]\n\n[[x]]\n\n[x.b]\nc = 2\n"],
  ["[tbl]\n[tbl.sub]\nx=1\n[tbl2]\ny=2\n[tbl2.sub]\n", "[tbl.sub]\nx = 1\n\n[tbl2]\ny = 2\n\n[tbl2.sub]\n"],
  ["a = {x = 1,\n y = 2, }\n", "[a]\nx = 1\ny = 2\n"],
  ["a = \"\\e\\x41\"\n", "a = \"\\u001BA\"\n"],
  ["x = \"\"\"a\\  \n  b\"\"\"\n", "x = \"ab\"\n"],
  ["\ufeffx = 1\r\ny = 2\r\n", "y = 2\n"],
  ["\"1\" = 1\n\"0\" = 0\na = 2\n", "1 = 1\n0 = 0\na = 2\n"],
  ["x.y.z = 1\nx.w = 2\n", "[x]\nw = 2\n\n[x.y]\nz = 1\n"],
];

/** [document, "ERR <line>:<col>: <message>"] */
const ERRORS: Array<[string, string]> = [
  ["a = \n", "ERR 1:5: string values must be quoted, expected literal string"],
  ["a = 1\na = 2\n", "ERR 2:1: duplicate key"],
  ["[t]\n[t]\n", "ERR 2:2: duplicate key"],
  ["a = \"unterminated\n", "ERR 1:18: invalid basic string, expected `\"`"],
  ["a = 1979-13-01\n", "ERR 1:5: invalid date, expected month between 01 and 12"],
  ["ok = 1\na = [1,\n", "ERR 2:8: unclosed array, expected `]`"],
  ["\u00ff = 1", "ERR 1:1: invalid unquoted key, expected letters, numbers, `-`, `_`"],
  ["a = 99999999999999999999\n", "ERR 1:5: invalid type: integer `99999999999999999999` as i128, expected any valid TOML value"],
  ["a = 01\n", "ERR 1:5: unexpected leading zero, expected nothing"],
  ["a = 1__0\n", "ERR 1:6: `_` may only go between digits, expected nothing"],
  ["a = _1\n", "ERR 1:5: `_` may only go between digits, expected nothing"],
  ["a = 0x\n", "ERR 1:5: integer number overflowed"],
  ["a = 1.\n", "ERR 1:7: invalid fraction, expected digits"],
  ["a = .5\n", "ERR 1:5: invalid mantissa, expected digits"],
  ["a = 1e\n", "ERR 1:7: invalid exponent, expected digits"],
  ["a = tru\n", "ERR 1:5: invalid boolean, expected `true`"],
  ["a = [1 2]\n", "ERR 1:6: string values must be quoted, expected literal string"],
  ["a = \"x\" b = 1\n", "ERR 1:9: unexpected key or value, expected newline, `#`"],
  ["[a\n", "ERR 1:3: unclosed table, expected `]`"],
  ["[[a]\n", "ERR 1:5: unclosed array table, expected `]`"],
  ["a.b = 1\na = 2\n", "ERR 2:1: duplicate key"],
  ["a = 1\na.b = 2\n", "ERR 2:1: cannot extend value of type integer with a dotted key"],
  ["[a]\nb = 1\n[a.b]\n", "ERR 3:4: duplicate key"],
  ["a = [1]\n[[a]]\n", "ERR 2:3: duplicate key"],
  ["= 1\n", "ERR 1:1: unquoted keys cannot be empty, expected letters, numbers, `-`, `_`"],
  ["a\n", "ERR 1:2: key with no value, expected `=`"],
  ["a = \"\\q\"\n", "ERR 1:7: missing escaped value, expected `b`, `e`, `f`, `n`, `r`, `\\`, `\"`, `x`, `u`, `U`"],
  ["a = \"\\u00\"\n", "ERR 1:10: too few unicode value digits, expected unicode hexadecimal value"],
  ["a = \"\\uD800\"\n", "ERR 1:8: invalid value, expected unicode hexadecimal value"],
  ["a = 1979-02-30\n", "ERR 1:5: invalid date, expected day between 01 and 28"],
  ["a = 1979-05-27T25:00:00\n", "ERR 1:5: invalid time, expected hour between 00 and 23"],
  ["a = \"a\u0001b\"\n", "ERR 1:7: invalid basic string, expected non-double-quote visible characters, `\\`"],
  ["a = 1 # c\u0001\n", "ERR 1:10: invalid comment character, expected printable characters"],
  ["a = 1\ry = 2\n", "ERR 1:7: carriage return must be followed by newline, expected newline"],
  ["x = {a = 1}\n[x.b]\n", "ERR 2:2: cannot extend value of type inline table with a dotted key"],
  ["a = \"\"\"abc\n", "ERR 1:12: invalid multi-line basic string, expected `\"`"],
  ["a = {x = 1 y = 2}\n", "ERR 1:14: extra assignment between key-value pairs, expected `,`"],
  ["a = [1,,2]\n", "ERR 1:8: extra comma in array, expected value"],
  ["a = -0x10\n", "ERR 1:5: integers with a radix cannot be signed, expected nothing"],
  ["a = 1e400\n", "ERR 1:5: floating-point number overflowed"],
  ["a = 9223372036854775808\n", "ERR 1:5: u64 value was too large"],
  ["a = 0xZZ\n", "ERR 1:7: invalid hexadecimal number"],
  ["a = 1.5.5\n", "ERR 1:8: invalid float, expected nothing"],
  ["a = 1979-05\n", "ERR 1:5: invalid date, expected `-` (MM-DD)"],
  ["a = {,}\n", "ERR 1:6: extra comma in inline table, expected key"],
  ["a.\n", "ERR 1:3: key with no value, expected `=`"],
  ["a = +inf1\n", "ERR 1:6: invalid float, expected `inf`"],
  ["a = ]\n", "ERR 1:5: missing array opening, expected `[`"],
  ["a = =\n", "ERR 1:5: extra `=`, expected nothing"],
  ["[a.b.c]\n[a]\nb.d = 1\n", "ERR 3:3: duplicate key"],
  ["a = 'a\u0001'\n", "ERR 1:7: invalid literal string, expected non-single-quote visible characters"],
];

const enc = (s: string) => JSON.stringify(s).replace(/\u007f/g, '\\u007F').replace(/\u2028/g, '\\u2028');

function topLevelKeys(doc: string): string[][] {
  const keys = [...new Set([...doc.matchAll(/(?:^|\n)\[*"?([a-z0-9]+)/g)].map((m) => m[1]!))].map((k) => [k]);
  return keys.length > 0 ? keys : [['x']];
}

test('strings are written in the style the toml crate picks', () => {
  for (const [value, expected] of STRINGS) {
    const table = parseToml(`v = ${enc(value)}\n`);
    assert.equal(table.get('v'), value);
    assert.equal(stringifyToml(table), expected, JSON.stringify(value));
  }
});

test('keys are bare, basic-quoted or literal-quoted like the toml crate', () => {
  for (const [key, expected] of KEYS) assert.equal(stringifyToml(parseToml(`${enc(key)} = 1\n`)), expected, JSON.stringify(key));
});

test('documents: values before tables, headers only where needed, inline arrays and tables', () => {
  for (const [doc, expected] of DOCS) assert.equal(selectedToml(parseToml(doc), topLevelKeys(doc)), expected, JSON.stringify(doc));
});

test('parse errors carry the toml crate position and text', () => {
  for (const [doc, expected] of ERRORS) {
    assert.throws(
      () => parseToml(doc),
      (err: unknown) => {
        assert.ok(err instanceof TomlParseError, String(err));
        assert.equal(`ERR ${err.line}:${err.column}: ${err.message}`, expected, JSON.stringify(doc));
        return true;
      },
    );
  }
});

test('the multi-line error display of toml::de::Error', () => {
  try {
    parseToml('model = \n');
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof TomlParseError);
    assert.equal(err.display(), 'TOML parse error at line 1, column 9\n  |\n1 | model = \n  |         ^\nstring values must be quoted, expected literal string\n');
    assert.equal(err.located('/x/config.toml'), '/x/config.toml:1:9: string values must be quoted, expected literal string');
  }
});

test('integers stay exact i64 and document order survives integer-like keys', () => {
  const table = parseToml('b = 9223372036854775807\n"1" = 1\n"0" = 0\n');
  assert.equal(table.get('b'), 9223372036854775807n);
  assert.deepEqual([...table.keys()], ['b', '1', '0']);
});

test('floats use Rust positional Display', () => {
  assert.equal(formatFloat(1e300), '1' + '0'.repeat(300) + '.0');
  assert.equal(formatFloat(2.5e-5), '0.000025');
  assert.equal(formatFloat(-0), '-0.0');
  assert.equal(formatFloat(NaN), 'nan');
  assert.equal(formatFloat(-Infinity), '-inf');
});
