import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { StdioPipe } from './stdio-pipe.ts';

function setup(maxLine?: number) {
  const input = new PassThrough();
  const output = new PassThrough();
  const pipe = new StdioPipe(input, output, maxLine);
  const lines: string[] = [];
  let closed = 0;
  pipe.onMessage((l) => lines.push(l as string));
  pipe.onClose(() => closed++);
  return { input, output, pipe, lines, closed: () => closed };
}

test('splits lines across chunks, skips blank lines, accepts CRLF', () => {
  const s = setup();
  s.input.write('{"a":1}\n\n  \n{"b"');
  s.input.write(':2}\r\n{"c":3}');
  assert.deepEqual(s.lines, ['{"a":1}', '{"b":2}']);
  s.input.write('\n');
  assert.deepEqual(s.lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('writes one message per line and ends on EOF', async () => {
  const s = setup();
  s.pipe.send('{"id":1,"result":{}}');
  assert.equal(s.output.read().toString(), '{"id":1,"result":{}}\n');
  s.input.end();
  await new Promise((r) => setImmediate(r));
  assert.equal(s.closed(), 1);
  s.pipe.send('ignored');
  assert.equal(s.output.read(), null);
});

test('a line longer than the limit ends the connection', () => {
  const s = setup(16);
  s.input.write('{"x":"0123456789abcdef"}');
  assert.equal(s.closed(), 1);
  assert.deepEqual(s.lines, []);
});

test('a line that is not UTF-8 ends the connection, as on the reference', () => {
  const s = setup();
  s.input.write('{"a":1}\n');
  s.input.write(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]));
  s.input.write('{"b":2}\n');
  assert.deepEqual(s.lines, ['{"a":1}']);
  assert.equal(s.closed(), 1);
});
