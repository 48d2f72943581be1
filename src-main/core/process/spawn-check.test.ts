import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  SpawnError,
  checkExecutable,
  checkNoNul,
  checkWorkingDirectory,
  ptyWorkingDirectory,
  resolvePipeProgram,
  resolvePtyProgram,
  rustDebugString,
} from './spawn-check.ts';

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spawn-check-'));
  const file = (name: string, content: string | Buffer, mode: number) => {
    writeFileSync(join(dir, name), content);
    chmodSync(join(dir, name), mode);
  };
  file('script', '#!/bin/sh\necho hi\n', 0o755);
  file('script-spaces', '#!  /bin/sh -e\necho hi\n', 0o755);
  file('noshebang', 'echo ran-by-sh\n', 0o755);
  file('empty', '', 0o755);
  file('garbage-elf', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0]), 0o755);
  file('badinterp', '#!/nonexistent/interp\n', 0o755);
  file('nointerp', '#!\n', 0o755);
  file('noexec', '#!/bin/sh\necho x\n', 0o644);
  mkdirSync(join(dir, 'adir'));
  mkdirSync(join(dir, 'bin1'));
  mkdirSync(join(dir, 'bin2'));
  mkdirSync(join(dir, 'bin1', 'isdir'));
  writeFileSync(join(dir, 'bin1', 'nox'), '#!/bin/sh\n');
  copyFileSync('/bin/sh', join(dir, 'bin2', 'mysh'));
  chmodSync(join(dir, 'bin2', 'mysh'), 0o755);
  writeFileSync(join(dir, 'bin2', 'nox'), '#!/bin/sh\n');
  chmodSync(join(dir, 'bin2', 'nox'), 0o755);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SpawnError, `not a SpawnError: ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a SpawnError');
}

const ENOENT = 'No such file or directory (os error 2)';
const EACCES = 'Permission denied (os error 13)';
const ENOEXEC = 'Exec format error (os error 8)';

test('executable checks mirror execve', () => {
  checkExecutable('/bin/sh', dir);
  checkExecutable(join(dir, 'script'), dir);
  checkExecutable(join(dir, 'script-spaces'), dir);
  assert.equal(message(() => checkExecutable(join(dir, 'missing'), dir)), ENOENT);
  assert.equal(message(() => checkExecutable(join(dir, 'script', 'x'), dir)), 'Not a directory (os error 20)');
  assert.equal(message(() => checkExecutable(join(dir, 'adir'), dir)), EACCES);
  assert.equal(message(() => checkExecutable('/dev/null', dir)), EACCES);
  // Root passes access(X_OK) only when some x bit is set, so this holds for root too.
  assert.equal(message(() => checkExecutable(join(dir, 'noexec'), dir)), EACCES);
  assert.equal(message(() => checkExecutable(join(dir, 'noshebang'), dir)), ENOEXEC);
  assert.equal(message(() => checkExecutable(join(dir, 'empty'), dir)), ENOEXEC);
  assert.equal(message(() => checkExecutable(join(dir, 'garbage-elf'), dir)), ENOEXEC);
  assert.equal(message(() => checkExecutable(join(dir, 'nointerp'), dir)), ENOEXEC);
  assert.equal(message(() => checkExecutable(join(dir, 'badinterp'), dir)), ENOENT);
});

test('working directory must be a directory', () => {
  checkWorkingDirectory(dir);
  assert.equal(message(() => checkWorkingDirectory(join(dir, 'nope'))), ENOENT);
  assert.equal(message(() => checkWorkingDirectory(join(dir, 'script'))), 'Not a directory (os error 20)');
});

test('pipe resolution: execvp semantics in the child PATH', () => {
  const env = (PATH?: string): Record<string, string> => (PATH === undefined ? {} : { PATH });
  assert.equal(resolvePipeProgram('mysh', dir, env(`${dir}/bin1:${dir}/bin2`)), `${dir}/bin2/mysh`);
  // A name with a slash is relative to cwd, not searched.
  assert.equal(resolvePipeProgram('bin2/mysh', dir, env('/usr/bin')), `${dir}/bin2/mysh`);
  assert.equal(resolvePipeProgram('/bin/sh', dir, env()), '/bin/sh');
  // Relative and empty PATH entries are relative to cwd.
  assert.equal(resolvePipeProgram('mysh', dir, env('bin2')), `${dir}/bin2/mysh`);
  assert.equal(resolvePipeProgram('script', dir, env(':')), `${dir}/script`);
  // No PATH: musl's default search path.
  assert.match(resolvePipeProgram('sh', dir, env()), /^\/(usr\/local\/bin|bin|usr\/bin)\/sh$/);
  assert.equal(message(() => resolvePipeProgram('ldconfig', dir, env())), ENOENT); // sbin is not searched
  assert.equal(message(() => resolvePipeProgram('definitely-not-here', dir, env('/usr/bin:/bin'))), ENOENT);
  assert.equal(message(() => resolvePipeProgram('sh', dir, env(''))), ENOENT);
  // A candidate that exists but cannot run turns ENOENT into EACCES; a later good one still wins.
  assert.equal(message(() => resolvePipeProgram('nox', dir, env(`${dir}/bin1`))), EACCES);
  assert.equal(message(() => resolvePipeProgram('isdir', dir, env(`${dir}/bin1`))), EACCES);
  assert.equal(resolvePipeProgram('nox', dir, env(`${dir}/bin1:${dir}/bin2`)), `${dir}/bin2/nox`);
  // ENOEXEC is final (no /bin/sh retry).
  assert.equal(message(() => resolvePipeProgram('noshebang', dir, env(dir))), ENOEXEC);
  assert.equal(message(() => resolvePipeProgram('./noshebang', dir, env())), ENOEXEC);
  assert.equal(message(() => resolvePipeProgram('', dir, env())), 'missing program for pipe spawn');
});

test('pty resolution: portable-pty texts', () => {
  const PATH = `${dir}/bin1:/nonexistent`;
  assert.equal(resolvePtyProgram('mysh', dir, { PATH: `${dir}/bin1:${dir}/bin2` }), `${dir}/bin2/mysh`);
  assert.equal(
    message(() => resolvePtyProgram('isdir', dir, { PATH })),
    `Unable to spawn isdir because:\n${dir}/bin1/isdir exists but is a directory.\nNo viable candidates found in PATH "${PATH}"`,
  );
  assert.equal(
    message(() => resolvePtyProgram('nox', dir, { PATH: `${dir}/bin1` })),
    `Unable to spawn nox because:\n${dir}/bin1/nox exists but is not executable.\nNo viable candidates found in PATH "${dir}/bin1"`,
  );
  assert.equal(message(() => resolvePtyProgram('sh', dir, {})), 'Unable to spawn sh because:\nUnable to resolve the PATH');
  assert.equal(message(() => resolvePtyProgram('sh', dir, { PATH: '' })), 'Unable to spawn sh because:\nNo viable candidates found in PATH ""');
  assert.equal(message(() => resolvePtyProgram('./missing', dir, { PATH })), `Unable to spawn ${dir}/./missing because it does not exist`);
  assert.equal(message(() => resolvePtyProgram('../x', dir, { PATH })), `Unable to spawn ${dir}/../x because it does not exist`);
  assert.equal(message(() => resolvePtyProgram('.', dir, { PATH })), `Unable to spawn ${dir}/. because it is a directory`);
  assert.equal(message(() => resolvePtyProgram('./noexec', dir, { PATH })), `Unable to spawn ${dir}/./noexec because it is not executable`);
  // "sub/x" is searched in PATH, not taken relative to cwd.
  assert.equal(resolvePtyProgram('bin2/mysh', '/', { PATH: dir }), `${dir}/bin2/mysh`);
  // Absolute programs and found programs fail like exec does (the reference prints a Rust abort
  // on the terminal for found-but-unrunnable programs; a synchronous error is kept here).
  assert.equal(message(() => resolvePtyProgram(join(dir, 'missing'), dir, { PATH })), ENOENT);
  assert.equal(message(() => resolvePtyProgram(join(dir, 'adir'), dir, { PATH })), EACCES);
  assert.equal(message(() => resolvePtyProgram(join(dir, 'garbage-elf'), dir, { PATH })), ENOEXEC);
  assert.equal(message(() => resolvePtyProgram('./noshebang', dir, { PATH })), ENOEXEC);
  assert.equal(message(() => resolvePtyProgram('', dir, { PATH })), 'missing program for PTY spawn');
  assert.equal(
    message(() => resolvePtyProgram('nope', dir, { PATH: '/a"b\\c:\t:é\u0001' })),
    'Unable to spawn nope because:\nNo viable candidates found in PATH "/a\\"b\\\\c:\\t:é\\u{1}"',
  );
});

test('pty working directory falls back to HOME, then the passwd home', () => {
  assert.equal(ptyWorkingDirectory(dir, {}), dir);
  assert.equal(ptyWorkingDirectory(join(dir, 'nope'), { HOME: '/tmp' }), '/tmp');
  assert.equal(ptyWorkingDirectory(join(dir, 'script'), {}), userInfo().homedir);
});

test('NUL bytes are refused with the reference texts', () => {
  checkNoNul(['/bin/echo', 'x'], null, '/', { A: 'b' });
  assert.equal(message(() => checkNoNul(['/bin/echo', 'a\0b'], null, '/', {})), 'nul byte found in provided data');
  assert.equal(message(() => checkNoNul(['/bin/echo'], 'x\0', '/', {})), 'nul byte found in provided data');
  assert.equal(message(() => checkNoNul(['/bin/echo'], null, '/', { A: 'x\0' })), 'data provided contains a nul byte');
  assert.equal(rustDebugString('a\nb\0'), '"a\\nb\\0"');
});
