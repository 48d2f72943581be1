import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError } from '../rpc/errors.ts';
import { uuidString } from './uuid.ts';

// Each expectation was observed as the -32602 message of process/start metadata.threadId on 0.169.0.
const cases: Array<[unknown, string | null]> = [
  ['67e55044-10b1-426f-9247-bb680e5fe0c8', null],
  ['{67e55044-10b1-426f-9247-bb680e5fe0c8}', null],
  ['urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8', null],
  ['67e5504410b1426f9247bb680e5fe0c8', null],
  ['67E55044-10B1-426F-9247-BB680E5FE0C8', null],
  [5, 'invalid type: number, expected a string'],
  ['', 'invalid length: expected length 32 for simple format, found 0'],
  ['67e5504410b1426f9247bb680e5fe0c', 'invalid length: expected length 32 for simple format, found 31'],
  ['67e55044-10b1-426f-9247', 'invalid group count: expected 5, found 4'],
  ['67e5504-410b1-426f-9247-bb680e5fe0c8', 'invalid group length in group 0: expected 8, found 7'],
  ['67e55044-10b1-426f-9247-bb680e5fe0c8a', 'invalid group length in group 4: expected 12, found 13'],
  ['67e55044-10b1-426f-9247-bb680e5fe0c', 'invalid group length in group 4: expected 12, found 11'],
  ['{67e55044-10b1-426f-9247-bb680e5fe0c}', 'invalid group length in group 4: expected 12, found 13'],
  ['é7e55044-10b1-426f-9247-bb680e5fe0c8', 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `é` at 1'],
  ['urn:uuid:zz', 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `z` at 10'],
  ['not-a-uuid', 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `n` at 1'],
];

for (const [input, expected] of cases) {
  test(`uuid ${JSON.stringify(input)}`, () => {
    const decoder = uuidString();
    if (expected === null) {
      assert.equal(decoder.decode(input), input);
      return;
    }
    assert.throws(() => decoder.decode(input), (err: unknown) => err instanceof RpcError && err.code === -32602 && err.message === expected);
  });
}
