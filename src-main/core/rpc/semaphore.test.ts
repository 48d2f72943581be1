import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from './semaphore.ts';

test('grants permits in FIFO order and never more than its size', async () => {
  const sem = new Semaphore(2);
  const order: number[] = [];
  let running = 0;
  let peak = 0;
  await Promise.all(
    [0, 1, 2, 3, 4].map(async (i) => {
      await sem.acquire();
      order.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      sem.release();
    }),
  );
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
});
