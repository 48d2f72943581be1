import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameHeaderWatcher } from './frame-guard.ts';

function frameHeader(length: number, masked = true): Buffer {
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (length < 126) header = Buffer.from([0x81, maskBit | length]);
  else if (length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return masked ? Buffer.concat([header, Buffer.from([1, 2, 3, 4])]) : header;
}

test('frames within the limit pass, across arbitrary chunking', () => {
  const watcher = new FrameHeaderWatcher(1000);
  const stream = Buffer.concat([frameHeader(5), Buffer.alloc(5), frameHeader(300), Buffer.alloc(300), frameHeader(1000), Buffer.alloc(1000)]);
  for (let i = 0; i < stream.length; i += 7) assert.equal(watcher.push(stream.subarray(i, i + 7)), true);
});

test('a frame announcing more than the limit is caught from its header alone', () => {
  const watcher = new FrameHeaderWatcher(1000);
  assert.equal(watcher.push(Buffer.concat([frameHeader(10), Buffer.alloc(10)])), true);
  const big = frameHeader(1001);
  assert.equal(watcher.push(big.subarray(0, 3)), true); // header split mid-way
  assert.equal(watcher.push(big.subarray(3)), false);
});

test('64-bit lengths over the default 16 MiB limit are refused', () => {
  const watcher = new FrameHeaderWatcher();
  assert.equal(watcher.push(frameHeader(16 * 1024 * 1024)), true);
  const again = new FrameHeaderWatcher();
  assert.equal(again.push(frameHeader(16 * 1024 * 1024 + 1)), false);
});
