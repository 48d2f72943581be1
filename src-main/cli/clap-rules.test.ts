import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConflicts, checkRequired, smartUsage, type RuleCommand } from './clap-rules.ts';

/** A small command shaped like the remote flags: a → b (requires), c → a, d → b if d=x, e ⟂ f. */
const CMD: RuleCommand = {
  args: [
    { key: 'a', display: '--a <A>', requires: [{ key: 'b' }] },
    { key: 'b', display: '--b <B>' },
    { key: 'c', display: '--c', requires: [{ key: 'a' }] },
    { key: 'd', display: '--d <D>', requires: [{ key: 'a' }, { key: 'c', ifValue: 'x' }] },
    { key: 'e', display: '--e', conflicts: ['f', 'g'] },
    { key: 'f', display: '--f' },
    { key: 'g', display: '--g' },
  ],
  required: [],
};
const given = (...pairs: Array<[string, string]>) => new Map(pairs);

test('requirements are listed in clap order: a requirement before what requires it', () => {
  // c requires a, a requires b: clap lists b, a (unrolled a before a itself).
  assert.deepEqual(checkRequired(CMD, given(['c', 'true'])), {
    first: 'the following required arguments were not provided:',
    extra: ['  --b <B>', '  --a <A>'],
    usage: '--b <B> --a <A> --c',
  });
  // Present arguments are not listed, but stay in the usage line.
  assert.deepEqual(checkRequired(CMD, given(['a', '1'], ['c', 'true']))?.extra, ['  --b <B>']);
  assert.equal(checkRequired(CMD, given(['a', '1'], ['b', '2'])), null);
});

test('a value-conditioned requirement applies only for that value', () => {
  assert.deepEqual(checkRequired(CMD, given(['d', 'y']))?.extra, ['  --b <B>', '  --a <A>']);
  assert.deepEqual(checkRequired(CMD, given(['d', 'x']))?.extra, ['  --b <B>', '  --a <A>', '  --c']);
  assert.equal(checkRequired(CMD, given(['d', 'x'], ['a', '1'], ['b', '1'], ['c', 'true'])), null);
});

test('skipRequiresOf drops the requirements of an argument', () => {
  assert.equal(checkRequired(CMD, given(['c', 'true']), new Set(['c'])), null);
});

test('required arguments come first, in declaration order', () => {
  const cmd: RuleCommand = { ...CMD, required: ['f', 'b'] };
  assert.deepEqual(checkRequired(cmd, given()), {
    first: 'the following required arguments were not provided:',
    extra: ['  --f', '  --b <B>'],
    usage: '--f --b <B>',
  });
  assert.equal(smartUsage(cmd, ['e']), '--f --b <B> --e');
  assert.equal(smartUsage(CMD, []), '');
});

test('conflicts: the first given argument that conflicts, either direction; several are listed', () => {
  assert.deepEqual(checkConflicts(CMD, given(['f', 'true'], ['e', 'true'])), {
    first: "the argument '--f' cannot be used with '--e'",
    extra: [],
    usage: '--f',
  });
  assert.deepEqual(checkConflicts(CMD, given(['c', 'true'], ['e', 'true'], ['g', 'true'], ['f', 'true'])), {
    first: "the argument '--e' cannot be used with:",
    extra: ['  --g', '  --f'],
    // the other given arguments with their direct requirements first
    usage: '--a <A> --c --e',
  });
  assert.equal(checkConflicts(CMD, given(['a', '1'], ['f', 'true'])), null);
});
