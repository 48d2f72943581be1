import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { BoundedLineReader, isBearerToken } from './bounded-line-reader.ts';

test('lines split across chunks, CRLF, then a clean EOF', async () => {
  const stdin = new PassThrough();
  const reader = new BoundedLineReader(stdin, 64);
  stdin.write('ab');
  stdin.write('c\r\nde');
  stdin.write('f\n');
  stdin.end();
  assert.deepEqual(await reader.next(), { kind: 'line', bytes: Buffer.from('abc') });
  assert.deepEqual(await reader.next(), { kind: 'line', bytes: Buffer.from('def') });
  assert.deepEqual(await reader.next(), { kind: 'eof', partial: false });
});

test('EOF after bytes without a newline is partial', async () => {
  const stdin = new PassThrough();
  const reader = new BoundedLineReader(stdin, 64);
  stdin.end('abc');
  assert.deepEqual(await reader.next(), { kind: 'eof', partial: true });
});

test('the bound counts the newline', async () => {
  const fits = new PassThrough();
  const reader = new BoundedLineReader(fits, 8);
  fits.write('1234567\n');
  assert.deepEqual(await reader.next(), { kind: 'line', bytes: Buffer.from('1234567') });

  const over = new PassThrough();
  const overReader = new BoundedLineReader(over, 8);
  over.write('12345678\n');
  assert.deepEqual(await overReader.next(), { kind: 'too-long' });

  // Known too long before any newline arrives (stdin stays open).
  const open = new PassThrough();
  const openReader = new BoundedLineReader(open, 8);
  open.write('123456789');
  assert.deepEqual(await openReader.next(), { kind: 'too-long' });
  openReader.close();
});

test('waits for input and honours an abort', async () => {
  const stdin = new PassThrough();
  const reader = new BoundedLineReader(stdin, 64);
  const pending = reader.next();
  stdin.write('late\n');
  assert.deepEqual(await pending, { kind: 'line', bytes: Buffer.from('late') });
  const controller = new AbortController();
  const waiting = reader.next(controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(waiting, { message: 'stop' });
  reader.close();
});

test('bearer charset: visible ASCII only', () => {
  for (const ok of ['a', 'a.b-c_d~e+f/g=', 'a:b', 'a"b', 'a,b;c']) assert.equal(isBearerToken(Buffer.from(ok)), true, ok);
  for (const bad of ['', 'a b', ' a', 'a\tb', 'é', 'a\x7f']) assert.equal(isBearerToken(Buffer.from(bad)), false, bad);
});
