import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../testkit/remote/manual-clock.ts';
import type { RemoteLinkEvent } from './remote-link-types.ts';
import { CLOSED_STREAM_RETENTION_MS, STREAM_UPDATE_INTERVAL_MS, StreamViews, type ViewEntry } from './stream-views.ts';

interface Entry extends ViewEntry {
  bytes: number;
}

function makeViews(maxClosed = 3) {
  const clock = new ManualClock();
  const events: RemoteLinkEvent[] = [];
  const views = new StreamViews<Entry>({
    clock,
    emit: (e) => events.push(e),
    refresh: (entry) => {
      const changed = entry.view.bytesIn !== entry.bytes;
      entry.view.bytesIn = entry.bytes;
      return changed;
    },
    maxClosed,
  });
  const entry = (streamId: string): Entry =>
    views.add({
      view: { streamId, state: 'open', bytesIn: 0, bytesOut: 0, openedAtMs: clock.now(), closedAtMs: null, endReason: null, sessionId: null },
      bytes: 0,
      updateTimer: null,
      removeTimer: null,
    });
  const kinds = () => events.map((e) => (e.type === 'stream' ? `${e.stream.streamId}:${e.stream.state}:${e.stream.bytesIn}` : `${e.type}:${'streamId' in e ? e.streamId : ''}`));
  return { clock, views, events, entry, kinds };
}

test('updates are throttled to one per interval and only published when something changed', () => {
  const { clock, views, entry, kinds } = makeViews();
  const a = entry('a');
  a.bytes = 10;
  views.scheduleUpdate(a);
  views.scheduleUpdate(a);
  clock.advance(STREAM_UPDATE_INTERVAL_MS - 1);
  assert.deepEqual(kinds(), []);
  clock.advance(1);
  assert.deepEqual(kinds(), ['a:open:10']);
  views.scheduleUpdate(a); // no new bytes
  clock.advance(STREAM_UPDATE_INTERVAL_MS);
  assert.deepEqual(kinds(), ['a:open:10'], 'nothing changed, nothing published');
  assert.deepEqual(views.list().map((v) => v.bytesIn), [10]);
  views.list()[0]!.bytesIn = 99;
  assert.equal(views.get('a')!.view.bytesIn, 10, 'list() hands out copies');
});

test('close refreshes, publishes closed with the reason, and removes the view after the retention', () => {
  const { clock, views, entry, kinds } = makeViews();
  const a = entry('a');
  a.bytes = 5;
  views.scheduleUpdate(a);
  views.close(a, 'peer_reset');
  clock.advance(STREAM_UPDATE_INTERVAL_MS);
  assert.deepEqual(kinds(), ['a:closed:5'], 'the pending update died with the stream');
  assert.equal(views.get('a')!.view.closedAtMs, clock.now() - STREAM_UPDATE_INTERVAL_MS);
  clock.advance(CLOSED_STREAM_RETENTION_MS);
  assert.deepEqual(kinds(), ['a:closed:5', 'streamRemoved:a']);
  assert.deepEqual(views.list(), []);
});

test('at most maxClosed closed views are kept (oldest first out); a reused id replaces the old entry and its timers', () => {
  const { clock, views, entry, kinds } = makeViews(2);
  for (const id of ['a', 'b', 'c']) views.close(entry(id), 'peer_close');
  assert.deepEqual(
    views.list().map((v) => v.streamId),
    ['b', 'c'],
  );
  assert.ok(kinds().includes('streamRemoved:a'));
  const old = views.get('b')!;
  const fresh = entry('b');
  assert.notEqual(views.get('b'), old);
  assert.deepEqual(views.list().map((v) => `${v.streamId}:${v.state}`), ['c:closed', 'b:open'], 'the reused id is the newest');
  clock.advance(CLOSED_STREAM_RETENTION_MS);
  assert.equal(views.get('b'), fresh, "the old entry's removal timer does not remove the new one");
  assert.deepEqual(views.list().map((v) => v.streamId), ['b']);
});
