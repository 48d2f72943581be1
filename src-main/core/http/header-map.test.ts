import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from './header-map.ts';

const pairs = (m: HeaderMap) => [...m.pairs()].map(([k, v]) => `${k}: ${v}`);

test('duplicates are grouped at the first position of their name, names lower-cased', () => {
  const m = HeaderMap.from([
    ['X-A', '1'],
    ['x-b', '2'],
    ['x-a', '3'],
    ['X-A', '4'],
  ]);
  assert.deepEqual(pairs(m), ['x-a: 1', 'x-a: 3', 'x-a: 4', 'x-b: 2']);
  assert.equal(m.get('X-a'), '1');
  assert.deepEqual(m.getAll('x-a'), ['1', '3', '4']);
  assert.equal(m.size, 2);
});

test('insert replaces in place, append adds at the end', () => {
  const m = HeaderMap.from([
    ['a', '1'],
    ['b', '2'],
    ['a', '3'],
  ]);
  m.insert('a', 'x');
  m.insert('c', 'y');
  m.append('b', 'z');
  assert.deepEqual(pairs(m), ['a: x', 'b: 2', 'b: z', 'c: y']);
});

test('remove is a swap-remove, as http::HeaderMap (the reference reorders headers this way)', () => {
  // The reference's 302 POST→GET on [content-type, x-1, x-2] sends x-2, x-1.
  const m = HeaderMap.from([
    ['content-type', 'x'],
    ['x-1', '1'],
    ['x-2', '2'],
  ]);
  assert.equal(m.remove('content-type'), true);
  assert.equal(m.remove('content-type'), false);
  assert.deepEqual(pairs(m), ['x-2: 2', 'x-1: 1']);
  m.remove('x-1'); // the last one: nothing moves
  assert.deepEqual(pairs(m), ['x-2: 2']);
});

test('replaceFrom follows reqwest RequestBuilder::headers', () => {
  const m = new HeaderMap();
  m.insert('authorization', 'Basic dTpw');
  m.replaceFrom(
    HeaderMap.from([
      ['x-first', '1'],
      ['authorization', 'mine'],
      ['x-first', '2'],
    ]),
  );
  assert.deepEqual(pairs(m), ['authorization: mine', 'x-first: 1', 'x-first: 2']);
});

test('setLast and clone', () => {
  const m = HeaderMap.from([
    ['te', 'a'],
    ['te', 'gzip'],
  ]);
  const c = m.clone();
  m.setLast('te', 'gzip, chunked');
  assert.deepEqual(pairs(m), ['te: a', 'te: gzip, chunked']);
  assert.deepEqual(pairs(c), ['te: a', 'te: gzip']);
  assert.throws(() => m.setLast('nope', 'x'));
});
