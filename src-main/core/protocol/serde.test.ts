/**
 * Tests for serde.ts.
 *
 * CASES was recorded from the reference binary (0.169.0): after initialize/initialized, each
 * request `{"id":N,"method":M,"params":<text>}` was sent raw and the answer noted — the message of a
 * -32602 deserialization error, or OK when the server got past decoding (any other answer, including
 * the post-decode checks `argv must not be empty`, `writeId must not be empty`, `cwd URI …`). Struct
 * names, field counts and required-field order come from the same probes (`null` and `[]` params per
 * method). The last test replays the table against the binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError } from '../rpc/errors.ts';
import { JsonFloat, parseJsonText } from '../rpc/json-text.ts';
import { PathUri } from './path-uri.ts';
import {
  base64Bytes,
  bool,
  custom,
  decodeParams,
  fail,
  i64,
  json,
  map,
  option,
  pathUri,
  refine,
  rustDebugString,
  seq,
  string,
  struct,
  u16,
  u32,
  u64,
  u64Big,
  unit,
  unitEnum,
  unexpected,
  usize,
  withDefault,
  type Decoder,
  type Infer,
} from './serde.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';
import { referenceAvailable, startServer } from '../../testkit/server-process.ts';

// Declarations of the reference's params types, as far as the probes pin them down.
const ReadParams = struct('ReadParams', {
  processId: string(),
  afterSeq: option(u64()),
  maxBytes: option(usize()),
  waitMs: option(u64()),
});
const InitializeParams = struct('InitializeParams', {
  clientName: string(),
  resumeSessionId: withDefault(option(string()), null),
});
const WriteParams = struct('WriteParams', { processId: string(), chunk: base64Bytes(), writeId: string() });
const SignalParams = struct('SignalParams', { processId: string(), signal: unitEnum(['interrupt']) });
const TerminateParams = struct('TerminateParams', { processId: string() });
const ExecEnvPolicy = struct('ExecEnvPolicy', {
  inherit: unitEnum(['core', 'all', 'none']),
  ignoreDefaultExcludes: bool(),
  exclude: seq(string()),
  set: map(string()),
  includeOnly: seq(string()),
});
const ManagedNetworkSandboxContext = struct('ManagedNetworkSandboxContext', {
  loopbackPorts: withDefault(seq(u16()), () => []),
  allowLocalBinding: withDefault(bool(), false),
  allowUnixSockets: withDefault(seq(string()), () => []),
  dangerouslyAllowAllUnixSockets: withDefault(bool(), false),
});
const ShellSnapshot = struct('ShellSnapshot', {
  scopeId: string(),
  shell: struct('Shell', { name: string(), path: string() }),
});
const ExecMetadata = struct('ExecMetadata', { threadId: option(string()), toolCallId: option(string()) });
// Field order after `env` is a guess (only the map form is tested for process/start).
const WireExecParams = struct('WireExecParams', {
  processId: string(),
  argv: seq(string()),
  cwd: pathUri(),
  env: map(string()),
  envPolicy: option(ExecEnvPolicy),
  tty: bool(),
  pipeStdin: withDefault(bool(), false),
  arg0: option(string()),
  sandbox: option(json()),
  enforceManagedNetwork: withDefault(bool(), false),
  managedNetwork: option(ManagedNetworkSandboxContext),
  networkProxy: option(json()),
  shellSnapshot: option(ShellSnapshot),
  metadata: option(ExecMetadata),
});
const WireFsOpenParams = struct('WireFsOpenParams', {
  handleId: string(),
  path: pathUri(),
  mode: withDefault(unitEnum(['read', 'replace']), 'read'),
  // placeholder: only the struct name is exercised here
  sandbox: option(struct('WireFileSystemSandboxContext', {})),
});
const WalkOptions = struct('WalkOptions', {
  maxDepth: usize(),
  maxDirectories: usize(),
  maxEntries: usize(),
  followDirectorySymlinks: bool(),
  pruneHiddenDirectories: withDefault(bool(), false),
});
const WireFsWalkParams = struct('WireFsWalkParams', { path: pathUri(), options: WalkOptions, sandbox: option(json()) });
const FsReadBlockParams = struct('FsReadBlockParams', { handleId: string(), offset: u64(), len: usize() });
const FsWatchMissingParams = struct('FsWatchMissingParams', { watchId: u64Big(), missing: seq(pathUri()), sandbox: option(json()) });
const WireFsCreateDirectoryParams = struct('WireFsCreateDirectoryParams', {
  path: pathUri(),
  recursive: option(bool()),
  followSymlinks: option(bool()),
  sandbox: option(json()),
});
const WireFsRemoveParams = struct('WireFsRemoveParams', {
  path: pathUri(),
  recursive: option(bool()),
  force: option(bool()),
  followSymlinks: option(bool()),
  sandbox: option(json()),
});
const WireFsCopyParams = struct('WireFsCopyParams', {
  sourcePath: pathUri(),
  destinationPath: pathUri(),
  recursive: bool(),
  sandbox: option(json()),
});
const FsCloseParams = struct('FsCloseParams', { handleId: string() });

const DECODERS: Record<string, Decoder<unknown>> = {
  'process/read': ReadParams,
  'environment/info': unit(),
  initialize: InitializeParams,
  'process/signal': SignalParams,
  'process/terminate': TerminateParams,
  'process/write': WriteParams,
  'process/start': WireExecParams,
  'fs/open': WireFsOpenParams,
  'fs/walk': WireFsWalkParams,
  'fs/readBlock': FsReadBlockParams,
  'fs/watchMissing': FsWatchMissingParams,
  'fs/createDirectory': WireFsCreateDirectoryParams,
  'fs/remove': WireFsRemoveParams,
  'fs/copy': WireFsCopyParams,
  'fs/close': FsCloseParams,
};

/** [method, params JSON text (null: no params member), reference answer: the -32602 message, or OK when decoding passed] */
const CASES: Array<[string, string | null, string]> = [
  ["process/read", null, "invalid type: null, expected struct ReadParams"],
  ["process/read", "null", "invalid type: null, expected struct ReadParams"],
  ["process/read", "[]", "invalid length 0, expected struct ReadParams with 4 elements"],
  ["process/read", "[1]", "invalid type: number, expected a string"],
  ["process/read", "[\"p\"]", "invalid length 1, expected struct ReadParams with 4 elements"],
  ["process/read", "[\"p\",1,2,3]", "OK"],
  ["process/read", "[\"p\",1,2,3,4]", "invalid length 5, expected fewer elements in array"],
  ["process/read", "[\"p\",null,null,null]", "OK"],
  ["process/read", "[\"p\",null,null]", "invalid length 3, expected struct ReadParams with 4 elements"],
  ["process/read", "{}", "missing field `processId`"],
  ["process/read", "{\"processId\":1}", "invalid type: number, expected a string"],
  ["process/read", "{\"afterSeq\":\"x\"}", "invalid type: string \"x\", expected u64"],
  ["process/read", "{\"afterSeq\":\"x\",\"processId\":1}", "invalid type: string \"x\", expected u64"],
  ["process/read", "{\"processId\":1,\"afterSeq\":\"x\"}", "invalid type: number, expected a string"],
  ["process/read", "{\"processId\":null}", "invalid type: null, expected a string"],
  ["process/read", "{\"processId\":\"p\",\"afterSeq\":null,\"maxBytes\":null,\"waitMs\":null}", "OK"],
  ["process/read", "\"str\"", "invalid type: string \"str\", expected struct ReadParams"],
  ["process/read", "true", "invalid type: boolean `true`, expected struct ReadParams"],
  ["process/read", "1", "invalid type: number, expected struct ReadParams"],
  ["process/read", "1.5", "invalid type: number, expected struct ReadParams"],
  ["process/read", "{\"processId\":\"p\",\"waitMs\":1.5,\"maxBytes\":\"x\"}", "invalid number"],
  ["process/read", "{\"processId\":\"p\",\"bogus\":{}}", "OK"],
  ["process/read", "{\"processId\":[\"x\"]}", "invalid type: sequence, expected a string"],
  ["process/read", "{\"processId\":{\"a\":1}}", "invalid type: map, expected a string"],
  ["process/read", "{\"processId\":true}", "invalid type: boolean `true`, expected a string"],
  ["process/read", "{\"processId\":false}", "invalid type: boolean `false`, expected a string"],
  ["process/read", "{\"processId\":-1}", "invalid type: number, expected a string"],
  ["process/read", "{\"processId\":1e400}", "invalid type: number, expected a string"],
  ["process/read", "[1,2,3,4]", "invalid type: number, expected a string"],
  ["process/read", "[\"p\",\"x\"]", "invalid type: string \"x\", expected u64"],
  ["process/read", "[\"p\",1,\"x\"]", "invalid type: string \"x\", expected usize"],
  ["process/read", "{\"0\":\"p\"}", "missing field `processId`"],
  ["process/read", "{\"constructor\":\"x\",\"toString\":1}", "missing field `processId`"],
  ["process/read", "{\"processId\":\"p\",\"__proto__\":1}", "OK"],
  ["process/read", "{\"processId\":\"p\",\"afterSeq\":\"a\\\"b\\n\\t\\r\\u0000\\u0001\\u001b\\u007f\\u0085\\u00a0é\\u0301x\\u200b\\u2028\\ue000\\ufeff\\\\'😀 \"}", "invalid type: string \"a\\\"b\\n\\t\\r\\0\\u{1}\\u{1b}\\u{7f}\\u{85}\\u{a0}é\\u{301}x\\u{200b}\\u{2028}\\u{e000}\\u{feff}\\\\'😀 \", expected u64"],
  ["process/read", "{\"processId\":\"p\",\"afterSeq\":\"\\u0301abc\"}", "invalid type: string \"\\u{301}abc\", expected u64"],
  ["process/read", "{\"processId\":\"p\",\"afterSeq\":\"\\u0378\"}", "invalid type: string \"\\u{378}\", expected u64"],
  ["process/read", "{\"processId\":\"p\",\"afterSeq\":\"\\u00ad\\u061c\"}", "invalid type: string \"\\u{ad}\\u{61c}\", expected u64"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":1}", "OK"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":1.0}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":1e3}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":1E3}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":-0}", "OK"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":1.5}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":-1}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":0.0}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":18446744073709551615}", "OK"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":18446744073709551616}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":\"5\"}", "invalid type: string \"5\", expected u64"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":true}", "invalid type: boolean `true`, expected u64"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":[]}", "invalid type: sequence, expected u64"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":{}}", "invalid type: map, expected u64"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":1e400}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":9007199254740993}", "OK"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":-9223372036854775809}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"afterSeq\":10000000000000000000000000000000000000000}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":1.0}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":1e3}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":-1}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":18446744073709551615}", "OK"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":18446744073709551616}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":1.5}", "invalid number"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":null}", "OK"],
  ["process/read", "{\"processId\":\"zz\",\"maxBytes\":{}}", "invalid type: map, expected usize"],
  ["environment/info", null, "OK"],
  ["environment/info", "null", "OK"],
  ["environment/info", "{}", "OK"],
  ["environment/info", "[]", "invalid type: sequence, expected unit"],
  ["environment/info", "{\"x\":1}", "invalid type: map, expected unit"],
  ["environment/info", "1", "invalid type: number, expected unit"],
  ["environment/info", "\"x\"", "invalid type: string \"x\", expected unit"],
  ["environment/info", "true", "invalid type: boolean `true`, expected unit"],
  ["environment/info", "[1]", "invalid type: sequence, expected unit"],
  ["environment/info", "[null]", "invalid type: sequence, expected unit"],
  ["environment/info", "{\"x\":null}", "invalid type: map, expected unit"],
  ["initialize", "{}", "missing field `clientName`"],
  ["initialize", "{\"clientName\":1}", "invalid type: number, expected a string"],
  ["initialize", "{\"clientName\":\"x\",\"resumeSessionId\":1}", "invalid type: number, expected a string"],
  ["initialize", "null", "invalid type: null, expected struct InitializeParams"],
  ["initialize", "[]", "invalid length 0, expected struct InitializeParams with 2 elements"],
  ["initialize", "[\"x\"]", "OK"],
  ["initialize", "[\"x\",null]", "OK"],
  ["initialize", "[\"x\",null,1]", "invalid length 3, expected fewer elements in array"],
  ["initialize", "[1]", "invalid type: number, expected a string"],
  ["initialize", "{\"resumeSessionId\":1}", "invalid type: number, expected a string"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":\"terminate\"}", "unknown variant `terminate`, expected `interrupt`"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":\"Interrupt\"}", "unknown variant `Interrupt`, expected `interrupt`"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":1}", "invalid type: number, expected string or map"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":null}", "invalid type: null, expected string or map"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"interrupt\":null}}", "OK"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"interrupt\":1}}", "invalid type: number, expected unit"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"terminate\":null}}", "unknown variant `terminate`, expected `interrupt`"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{}}", "invalid value: map, expected map with a single key"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"a\":1,\"b\":2}}", "invalid value: map, expected map with a single key"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"interrupt\":null,\"b\":2}}", "invalid value: map, expected map with a single key"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":[]}", "invalid type: sequence, expected string or map"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":[\"interrupt\"]}", "invalid type: sequence, expected string or map"],
  ["process/signal", "{\"processId\":\"p\"}", "missing field `signal`"],
  ["process/signal", "{\"signal\":\"x\"}", "unknown variant `x`, expected `interrupt`"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":\"interrupt\"}", "OK"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":\"\"}", "unknown variant ``, expected `interrupt`"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":true}", "invalid type: boolean `true`, expected string or map"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":\"a\\nb`\"}", "unknown variant `a\nb``, expected `interrupt`"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"interrupt\":{}}}", "invalid type: map, expected unit"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"interrupt\":[]}}", "invalid type: sequence, expected unit"],
  ["process/signal", "{\"processId\":\"p\",\"signal\":{\"1\":null}}", "unknown variant `1`, expected `interrupt`"],
  ["process/signal", "{\"signal\":{\"x\":null},\"processId\":1}", "unknown variant `x`, expected `interrupt`"],
  ["process/signal", "[\"p\",\"interrupt\"]", "OK"],
  ["process/signal", "[\"p\"]", "invalid length 1, expected struct SignalParams with 2 elements"],
  ["process/signal", "[\"p\",\"interrupt\",1]", "invalid length 3, expected fewer elements in array"],
  ["process/terminate", "[]", "invalid length 0, expected struct TerminateParams with 1 element"],
  ["process/terminate", "[\"p\"]", "OK"],
  ["process/terminate", "[\"p\",1]", "invalid length 2, expected fewer elements in array"],
  ["process/terminate", "{}", "missing field `processId`"],
  ["process/terminate", "{\"processId\":null}", "invalid type: null, expected a string"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"!\",\"writeId\":\"\"}", "Invalid symbol 33, offset 0."],
  ["process/write", "{\"writeId\":\"\",\"chunk\":\"!\",\"processId\":\"p\"}", "Invalid symbol 33, offset 0."],
  ["process/write", "{\"chunk\":\"!\",\"processId\":1}", "Invalid symbol 33, offset 0."],
  ["process/write", "{\"processId\":1,\"chunk\":\"!\"}", "invalid type: number, expected a string"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"!\"}", "Invalid symbol 33, offset 0."],
  ["process/write", "{\"processId\":\"p\",\"chunk\":1,\"writeId\":\"w\"}", "invalid type: number, expected a string"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":null,\"writeId\":\"w\"}", "invalid type: null, expected a string"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":[],\"writeId\":\"w\"}", "invalid type: sequence, expected a string"],
  ["process/write", "{\"processId\":\"p\",\"writeId\":\"w\"}", "missing field `chunk`"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"QQ==\",\"writeId\":\"\"}", "OK"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"QQ==\",\"writeId\":null}", "invalid type: null, expected a string"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"QQ==\",\"writeId\":1}", "invalid type: number, expected a string"],
  ["process/write", "[\"p\",\"QQ==\",\"w\"]", "OK"],
  ["process/write", "[\"p\",\"!\",\"w\"]", "Invalid symbol 33, offset 0."],
  ["process/write", "[\"p\",\"QQ==\"]", "invalid length 2, expected struct WriteParams with 3 elements"],
  ["process/write", "[]", "invalid length 0, expected struct WriteParams with 3 elements"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"QQ\",\"writeId\":\"w\"}", "Invalid padding"],
  ["process/write", "{\"processId\":\"p\",\"chunk\":\"QR==\",\"writeId\":\"w\"}", "Invalid last symbol 82, offset 1."],
  ["process/start", "{}", "missing field `processId`"],
  ["process/start", "{\"argv\":[]}", "missing field `processId`"],
  ["process/start", "{\"cwd\":\"file:///tmp\"}", "missing field `processId`"],
  ["process/start", "{\"processId\":\"p\"}", "missing field `argv`"],
  ["process/start", "{\"processId\":\"p\",\"argv\":[]}", "missing field `cwd`"],
  ["process/start", "{\"processId\":\"p\",\"cwd\":\"file:///\"}", "missing field `argv`"],
  ["process/start", "{\"processId\":\"p\",\"argv\":[],\"env\":{}}", "missing field `cwd`"],
  ["process/start", "{\"processId\":\"p\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"env\":{}}", "missing field `tty`"],
  ["process/start", "{\"processId\":\"p\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false}", "missing field `env`"],
  ["process/start", "{\"processId\":\"p\",\"argv\":\"x\"}", "invalid type: string \"x\", expected a sequence"],
  ["process/start", "{\"processId\":\"p\",\"argv\":[1]}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"p\",\"argv\":[\"a\",null]}", "invalid type: null, expected a string"],
  ["process/start", "{\"processId\":\"p\",\"env\":[]}", "invalid type: sequence, expected a map"],
  ["process/start", "{\"processId\":\"p\",\"env\":{\"A\":1}}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"p\",\"env\":{\"A\":\"x\",\"B\":null}}", "invalid type: null, expected a string"],
  ["process/start", "{\"processId\":\"p\",\"env\":null}", "invalid type: null, expected a map"],
  ["process/start", "{\"processId\":\"p\",\"tty\":\"yes\"}", "invalid type: string \"yes\", expected a boolean"],
  ["process/start", "{\"processId\":\"p\",\"tty\":null}", "invalid type: null, expected a boolean"],
  ["process/start", "{\"processId\":\"p\",\"pipeStdin\":null}", "invalid type: null, expected a boolean"],
  ["process/start", "{\"processId\":\"p\",\"arg0\":1}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"p\",\"envPolicy\":\"x\"}", "invalid type: string \"x\", expected struct ExecEnvPolicy"],
  ["process/start", "{\"processId\":\"p\",\"envPolicy\":{}}", "missing field `inherit`"],
  ["process/start", "{\"processId\":\"p\",\"envPolicy\":{\"inherit\":\"some\"}}", "unknown variant `some`, expected one of `core`, `all`, `none`"],
  ["process/start", "{\"processId\":\"p\",\"envPolicy\":{\"inherit\":1}}", "invalid type: number, expected string or map"],
  ["process/start", "{\"processId\":\"p\",\"cwd\":1}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"p\",\"cwd\":\"nope\"}", "invalid URI: relative URL without a base"],
  ["process/start", "{\"processId\":\"p\",\"cwd\":\"file:///tmp?x\"}", "query parameters are not allowed in path URIs"],
  ["process/start", "{\"processId\":\"p\",\"cwd\":\"http://x/\"}", "unsupported path URI scheme `http`"],
  ["process/start", "{\"processId\":\"s1\",\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"argv\":[]}", "OK"],
  ["process/start", "{\"processId\":\"s2\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"pipeStdin\":null}", "invalid type: null, expected a boolean"],
  ["process/start", "{\"processId\":\"s3\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"enforceManagedNetwork\":null}", "invalid type: null, expected a boolean"],
  ["process/start", "{\"processId\":\"s4\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"managedNetwork\":{\"loopbackPorts\":[65536],\"allowLocalBinding\":true}}", "invalid number"],
  ["process/start", "{\"processId\":\"s5\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"managedNetwork\":{\"loopbackPorts\":[-1],\"allowLocalBinding\":true}}", "invalid number"],
  ["process/start", "{\"processId\":\"s7\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"managedNetwork\":1}", "invalid type: number, expected struct ManagedNetworkSandboxContext"],
  ["process/start", "{\"processId\":\"s8\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"envPolicy\":{\"inherit\":\"all\"}}", "missing field `ignoreDefaultExcludes`"],
  ["process/start", "{\"processId\":\"s9\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"envPolicy\":{\"inherit\":\"all\",\"ignoreDefaultExcludes\":false,\"exclude\":[],\"set\":{}}}", "missing field `includeOnly`"],
  ["process/start", "{\"processId\":\"s11\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"metadata\":1}", "invalid type: number, expected struct ExecMetadata"],
  ["process/start", "{\"processId\":\"s12\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"metadata\":{\"threadId\":1}}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"s13\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"shellSnapshot\":{}}", "missing field `scopeId`"],
  ["process/start", "{\"processId\":\"s14\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{\"b\":1,\"1\":true}}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"s15\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{\"1\":true,\"b\":1}}", "invalid type: boolean `true`, expected a string"],
  ["process/start", "{\"processId\":\"s16\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{\"__proto__\":\"x\",\"A\":1}}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"s17\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"envPolicy\":[\"all\",false,[],{}]}", "invalid length 4, expected struct ExecEnvPolicy with 5 elements"],
  ["process/start", "{\"processId\":\"s18\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"envPolicy\":[\"all\",false,[],{},[],1]}", "invalid length 6, expected fewer elements in array"],
  ["process/start", "{\"processId\":\"s19\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{},\"envPolicy\":{\"inherit\":\"all\",\"ignoreDefaultExcludes\":false,\"exclude\":[1],\"set\":{},\"includeOnly\":[]}}", "invalid type: number, expected a string"],
  ["process/start", "{\"env\":{\"A\":1},\"processId\":1}", "invalid type: number, expected a string"],
  ["process/start", "{\"processId\":\"s20\",\"argv\":[\"true\"],\"cwd\":\"file:///tmp\",\"tty\":false,\"env\":{}, \"pipeStdin\":\"x\"}", "invalid type: string \"x\", expected a boolean"],
  ["process/start", "{\"processId\":\"s21\",\"argv\":[\"true\"],\"tty\":false,\"env\":{},\"cwd2\":1}", "missing field `cwd`"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":\"file:///tmp/zz-x\",\"mode\":\"append\"}", "unknown variant `append`, expected `read` or `replace`"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":\"file:///tmp/zz-x\",\"mode\":1}", "invalid type: number, expected string or map"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":\"file:///tmp/zz-x\",\"mode\":\"\"}", "unknown variant ``, expected `read` or `replace`"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":\"file:///tmp/zz-x\",\"mode\":null}", "invalid type: null, expected string or map"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":1}", "invalid type: number, expected a string"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":null}", "invalid type: null, expected a string"],
  ["fs/open", "{\"handleId\":\"h\"}", "missing field `path`"],
  ["fs/open", "{\"path\":\"nope\"}", "invalid URI: relative URL without a base"],
  ["fs/open", "{\"path\":\"nope\",\"handleId\":1}", "invalid URI: relative URL without a base"],
  ["fs/open", "{\"handleId\":1,\"path\":\"nope\"}", "invalid type: number, expected a string"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":\"file:///tmp/zz-x\",\"mode\":{\"read\":null}}", "OK"],
  ["fs/open", "{\"handleId\":\"h\",\"path\":\"file:///tmp/zz-x\",\"mode\":\"read\",\"sandbox\":1}", "invalid type: number, expected struct WireFileSystemSandboxContext"],
  ["fs/open", "[\"h\",\"file:///tmp/zz-x\"]", "invalid length 3, expected struct WireFsOpenParams with 4 elements"],
  ["fs/open", "[\"h\",\"file:///tmp/zz-x\",\"read\"]", "invalid length 3, expected struct WireFsOpenParams with 4 elements"],
  ["fs/open", "[\"h\",\"file:///tmp/zz-x\",\"read\",null]", "OK"],
  ["fs/open", "[\"h\",\"file:///tmp/zz-x\",\"read\",null,1]", "invalid length 5, expected fewer elements in array"],
  ["fs/open", "[\"h\",\"nope\"]", "invalid URI: relative URL without a base"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\"}", "missing field `options`"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{}}", "missing field `maxDepth`"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{\"maxDepth\":\"x\"}}", "invalid type: string \"x\", expected usize"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":null}", "invalid type: null, expected struct WalkOptions"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":1}", "invalid type: number, expected struct WalkOptions"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":[]}", "invalid length 0, expected struct WalkOptions with 5 elements"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{\"maxDepth\":1,\"maxDirectories\":1,\"maxEntries\":1}}", "missing field `followDirectorySymlinks`"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{\"maxDepth\":1,\"maxDirectories\":1,\"maxEntries\":1,\"followDirectorySymlinks\":null}}", "invalid type: null, expected a boolean"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{\"maxDepth\":1,\"maxDirectories\":1,\"maxEntries\":1,\"followDirectorySymlinks\":false,\"pruneHiddenDirectories\":null}}", "invalid type: null, expected a boolean"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":[1,1,1,false]}", "OK"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":[1,1,1]}", "invalid length 3, expected struct WalkOptions with 5 elements"],
  ["fs/walk", "{\"options\":{\"maxDepth\":\"x\"},\"path\":1}", "invalid type: string \"x\", expected usize"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{\"maxDepth\":-1,\"maxDirectories\":1,\"maxEntries\":1,\"followDirectorySymlinks\":false}}", "invalid number"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":[1,1,1,false,true,9]}", "invalid length 6, expected fewer elements in array"],
  ["fs/walk", "{\"path\":\"file:///tmp/zz-x\",\"options\":{\"maxDepth\":1e0,\"maxDirectories\":1,\"maxEntries\":1,\"followDirectorySymlinks\":false}}", "invalid number"],
  ["fs/readBlock", "{\"handleId\":\"h\",\"offset\":null,\"len\":1}", "invalid type: null, expected u64"],
  ["fs/readBlock", "{\"handleId\":\"h\",\"offset\":0}", "missing field `len`"],
  ["fs/readBlock", "{\"handleId\":\"h\",\"offset\":0,\"len\":1.0}", "invalid number"],
  ["fs/readBlock", "{\"handleId\":\"h\",\"offset\":\"1\",\"len\":1}", "invalid type: string \"1\", expected u64"],
  ["fs/readBlock", "[\"h\",0,1]", "OK"],
  ["fs/readBlock", "[\"h\",0]", "invalid length 2, expected struct FsReadBlockParams with 3 elements"],
  ["fs/readBlock", "[\"h\",0,1,2]", "invalid length 4, expected fewer elements in array"],
  ["fs/watchMissing", "{\"watchId\":-1,\"missing\":[]}", "invalid number"],
  ["fs/watchMissing", "{\"watchId\":1,\"missing\":[\"nope\"]}", "invalid URI: relative URL without a base"],
  ["fs/watchMissing", "{\"watchId\":1,\"missing\":\"file:///tmp\"}", "invalid type: string \"file:///tmp\", expected a sequence"],
  ["fs/watchMissing", "{\"watchId\":18446744073709551616,\"missing\":[]}", "invalid number"],
  ["fs/watchMissing", "{\"watchId\":1.0,\"missing\":[]}", "invalid number"],
  ["fs/createDirectory", "{\"path\":\"file:///proc/zz-serde-dir\",\"recursive\":null}", "OK"],
  ["fs/createDirectory", "{\"path\":\"file:///proc/zz-serde-dir\",\"recursive\":1}", "invalid type: number, expected a boolean"],
  ["fs/remove", "{\"path\":\"file:///tmp/zz-missing\",\"recursive\":null,\"force\":null}", "OK"],
  ["fs/remove", "{\"path\":\"file:///tmp/zz-missing\",\"followSymlinks\":null}", "OK"],
  ["fs/remove", "{\"path\":\"file:///tmp/zz-missing\",\"force\":\"x\"}", "invalid type: string \"x\", expected a boolean"],
  ["fs/copy", "{\"sourcePath\":\"file:///tmp/zz-missing\",\"destinationPath\":\"file:///tmp/zz-m2\"}", "missing field `recursive`"],
  ["fs/copy", "{\"sourcePath\":\"file:///tmp/zz-missing\",\"destinationPath\":\"file:///tmp/zz-m2\",\"recursive\":null}", "invalid type: null, expected a boolean"],
  ["fs/copy", "{\"destinationPath\":\"x\",\"sourcePath\":\"http://x/\"}", "invalid URI: relative URL without a base"],
  ["fs/close", "[]", "invalid length 0, expected struct FsCloseParams with 1 element"],
  ["fs/close", "[\"h\"]", "OK"],
  ["fs/close", "[\"h\",1]", "invalid length 2, expected fewer elements in array"],
  ["fs/close", "{}", "missing field `handleId`"],
];

function outcome(method: string, raw: string | null): string {
  let params: unknown;
  if (raw !== null) {
    const parsed = parseJsonText(raw);
    assert.ok(parsed.ok, raw);
    params = parsed.value;
  }
  try {
    decodeParams(DECODERS[method]!, params);
    return 'OK';
  } catch (e) {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.code, -32602);
    return e.message;
  }
}

test('params decode exactly like the reference (table from the binary)', () => {
  assert.ok(CASES.length >= 200);
  for (const [method, raw, expected] of CASES) assert.equal(outcome(method, raw), expected, `${method} ${raw}`);
});

test('decoded values are typed and complete', () => {
  const read = decodeParams(ReadParams, { processId: 'p', waitMs: 5, extra: true });
  assert.deepEqual(read, { processId: 'p', afterSeq: null, maxBytes: null, waitMs: 5 });
  const typed: { processId: string; afterSeq: number | null } = read; // compile-time inference check
  assert.equal(typed.processId, 'p');

  const positional = decodeParams(ReadParams, ['p', 1, null, 2]);
  assert.deepEqual(positional, { processId: 'p', afterSeq: 1, maxBytes: null, waitMs: 2 });

  const write = decodeParams(WriteParams, { processId: 'p', chunk: 'aGk=', writeId: 'w' });
  assert.deepEqual(write.chunk, Buffer.from('hi'));

  const open = decodeParams(WireFsOpenParams, { handleId: 'h', path: 'file://localhost/ws/a%20b/../c' });
  assert.equal(open.mode, 'read');
  assert.ok(open.path instanceof PathUri);
  assert.equal(open.path.href, 'file:///ws/c');
  assert.equal(open.path.toNativePath(), '/ws/c');
  assert.equal(decodeParams(WireFsOpenParams, { handleId: 'h', path: 'file:///x', mode: { replace: null } }).mode, 'replace');

  const init = decodeParams(InitializeParams, ['client']);
  assert.deepEqual(init, { clientName: 'client', resumeSessionId: null });

  const start = decodeParams(WireExecParams, {
    processId: 'p', argv: ['sh'], cwd: 'file:///tmp', env: { A: 'b', __proto__: 'x' }, tty: false,
    managedNetwork: {},
  });
  assert.equal(start.pipeStdin, false);
  assert.deepEqual(start.managedNetwork, { loopbackPorts: [], allowLocalBinding: false, allowUnixSockets: [], dangerouslyAllowAllUnixSockets: false });
  assert.equal(Object.getPrototypeOf(start.env), Object.prototype);
  assert.deepEqual(Object.keys(start.env), ['A']); // an object-literal __proto__ sets the prototype, not a key

  type Start = Infer<typeof WireExecParams>;
  const env: Record<string, string> = ({} as Start).env ?? {};
  assert.deepEqual(env, {});
});

test('__proto__ as a JSON key becomes an own entry of a decoded map', () => {
  const parsed = parseJsonText('{"__proto__":"x","A":"y"}');
  assert.ok(parsed.ok);
  const decoded = map(string()).decode(parsed.value);
  assert.ok(Object.hasOwn(decoded, '__proto__'));
  assert.equal(decoded['__proto__'], 'x');
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
});

test('integers: exact bigint variant, ranges, floats', () => {
  const big = parseJsonText('{"watchId":18446744073709551615,"missing":[]}');
  assert.ok(big.ok);
  assert.equal(decodeParams(FsWatchMissingParams, big.value).watchId, 18446744073709551615n);
  assert.equal(u64().decode(9007199254740993n), 9007199254740992); // rounded, documented
  assert.equal(u64().decode(-0), 0);
  assert.throws(() => u64().decode(1.5), { message: 'invalid number' });
  assert.throws(() => u64().decode(new JsonFloat('1.0')), { message: 'invalid number' });
  assert.throws(() => u16().decode(65536), { message: 'invalid number' });
  assert.equal(u16().decode(65535), 65535);
  assert.throws(() => u32().decode(2 ** 32), { message: 'invalid number' });
  assert.equal(i64().decode(-5), -5);
  assert.throws(() => i64().decode(2n ** 63n), { message: 'invalid number' });
  assert.throws(() => usize().decode('1'), { message: 'invalid type: string "1", expected usize' });
});

test('unexpected-value rendering follows serde_json with arbitrary_precision', () => {
  assert.equal(unexpected(null), 'null');
  assert.equal(unexpected(undefined), 'null');
  assert.equal(unexpected(true), 'boolean `true`');
  assert.equal(unexpected(3), 'number');
  assert.equal(unexpected(3n), 'number');
  assert.equal(unexpected(new JsonFloat('1e3')), 'number');
  assert.equal(unexpected([]), 'sequence');
  assert.equal(unexpected({}), 'map');
  // Rust `{:?}` escaping (expected text from the binary, see CASES)
  assert.equal(rustDebugString('a"b\n\t\r\u0000\u0001é\u0301 x\u00a0'), '"a\\"b\\n\\t\\r\\0\\u{1}é\\u{301} x\\u{a0}"');
});

test('unit params, enums and helpers', () => {
  assert.equal(decodeParams(unit(), undefined), null);
  assert.equal(decodeParams(unit(), {}), null);
  assert.throws(() => decodeParams(unit(), { x: null }), { message: 'invalid type: map, expected unit' });
  const three = unitEnum(['core', 'all', 'none']);
  assert.equal(three.decode({ all: null }), 'all');
  assert.throws(() => three.decode('x'), { message: 'unknown variant `x`, expected one of `core`, `all`, `none`' });
  assert.throws(() => unitEnum([]).decode('x'), { message: 'unknown variant `x`, there are no variants' });
  assert.throws(() => seq(bool()).decode([true, 1]), { message: 'invalid type: number, expected a boolean' });
  assert.equal(json().decode(undefined), null);
  const nonEmpty = refine(string(), (s) => (s === '' ? fail('writeId must not be empty') : s));
  assert.throws(() => nonEmpty.decode(''), { code: -32602, message: 'writeId must not be empty' });
  const even = custom('an even number', (v) => (typeof v === 'number' && v % 2 === 0 ? v : fail('odd')));
  assert.equal(even.decode(2), 2);
  assert.throws(() => base64Bytes().decode('QQ'), { message: 'Invalid padding' });
  assert.throws(() => pathUri().decode('/x'), { message: 'invalid URI: relative URL without a base' });
  // withDefault with a factory gives a fresh value per decode
  const S = struct('S', { list: withDefault(seq(string()), () => []) });
  const a = S.decode({});
  const b = S.decode({});
  assert.notEqual(a.list, b.list);
  // an absent option is null, an explicit null option too
  const O: Decoder<{ x: number | null }> = struct('O', { x: option(u64()) });
  assert.deepEqual(O.decode({ x: null }), { x: null });
});

test('table still matches the reference binary', { skip: !referenceAvailable() && 'reference binary not installed' }, async () => {
  const server = await startServer('reference');
  try {
    const client = await RpcClient.connect(server.url);
    await client.handshake();
    const semantic = [/^argv must not be empty$/, /^writeId must not be empty$/, /^cwd URI /, /^http\/request /];
    let id = 1000;
    for (const [method, raw, expected] of CASES) {
      const reqId = id++;
      const reply = client.waitFor((m) => m.id === reqId && m.method === undefined);
      client.sendRaw(raw === null ? `{"id":${reqId},"method":"${method}"}` : `{"id":${reqId},"method":"${method}","params":${raw}}`);
      const r = await reply;
      const got = r.error?.code === -32602 && !semantic.some((re) => re.test(r.error!.message)) ? r.error.message : 'OK';
      assert.equal(got, expected, `${method} ${raw}`);
    }
    client.close();
  } finally {
    await server.stop();
  }
});
