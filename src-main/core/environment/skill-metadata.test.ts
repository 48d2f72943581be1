/**
 * Tests for skill-metadata.ts and yaml-lite.ts. Each case was run through capabilities/discoverV2
 * on the 0.169.0 binary (as `~/.codex/skills/<dir>/SKILL.md` and `agents/openai.yaml`); `null`
 * means the reference dropped the skill (`invalid skill metadata`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSkillFrontmatter, parseSkillMetadataFile } from './skill-metadata.ts';
import { parseYaml, YamlError, YamlScalar } from './yaml-lite.ts';

/** [skill directory, SKILL.md, [name, description, shortDescription] or null] */
const FRONTMATTER: Array<[string, string, [string, string, string | null] | null]> = [
  ['plain', '---\nname: plain\ndescription: simple words here\n---\n', ['plain', 'simple words here', null]],
  ['num', '---\nname: 123\ndescription: 456\n---\n', ['123', '456', null]],
  ['bool', '---\nname: true\ndescription: yes\n---\n', ['true', 'yes', null]],
  ['nullname', '---\nname: ~\ndescription: null name\n---\n', ['nullname', 'null name', null]],
  ['emptyname', '---\nname:\ndescription: empty name\n---\n', ['emptyname', 'empty name', null]],
  ['my  dir', '---\ndescription: d\n---\n', ['my dir', 'd', null]],
  ['colon', '---\nname: colon\ndescription: Build for AWS: ECS\n---\n', ['colon', 'Build for AWS: ECS', null]],
  ['colonquote', "---\nname: cq\ndescription: it's a: test\n---\n", ['cq', "it's a: test", null]],
  ['quoted', "---\nname: 'quo''ted'\ndescription: \"dq \\\"esc\\\" \\t tab \\u00e9\"\n---\n", ["quo'ted", 'dq "esc" tab é', null]],
  ['block', '---\nname: block\ndescription: |\n  line one\n  line two\n---\n', ['block', 'line one line two', null]],
  ['folded', '---\nname: folded\ndescription: >-\n  fold one\n  fold two\n\n  para\n---\n', ['folded', 'fold one fold two para', null]],
  ['multiplain', '---\nname: multiplain\ndescription: first line\n  continued line\n---\n', ['multiplain', 'first line continued line', null]],
  ['longname', `---\nname: ${'x'.repeat(65)}\ndescription: long\n---\n`, null],
  ['name64', `---\nname: ${'y'.repeat(64)}\ndescription: ok64\n---\n`, ['y'.repeat(64), 'ok64', null]],
  ['spaces', '---\nname: "  spaced   name  "\ndescription: "  lots   of\\n space "\n---\n', ['spaced name', 'lots of space', null]],
  ['metanull', '---\nname: metanull\ndescription: d\nmetadata:\n---\n', ['metanull', 'd', null]],
  ['metastr', '---\nname: metastr\ndescription: d\nmetadata: hello\n---\n', null],
  ['metashort', '---\nname: metashort\ndescription: d\nmetadata:\n  short-description: "  s  d "\n  other: 1\n---\n', ['metashort', 'd', 's d']],
  ['metashortnum', '---\nname: metashortnum\ndescription: d\nmetadata:\n  short-description: 5\n---\n', ['metashortnum', 'd', '5']],
  ['dup', '---\nname: dup\nname: dup2\ndescription: d\n---\n', null],
  ['seqname', '---\nname: [a, b]\ndescription: d\n---\n', null],
  ['mapdesc', '---\nname: md2\ndescription: {a: 1}\n---\n', ['md2', '{a: 1}', null]],
  ['crlf', '---\r\nname: crlf\r\ndescription: d\r\n---\r\n', ['crlf', 'd', null]],
  ['bom', '\ufeff---\nname: bom\ndescription: d\n---\n', null],
  ['indentdash', '  ---\nname: indentdash\ndescription: d\n  ---  \n', ['indentdash', 'd', null]],
  ['nobody', '---\nname: nobody\ndescription: d\n---', ['nobody', 'd', null]],
  ['emptyfm', '---\n---\n', null],
  ['nofm', 'no front matter\n', null],
  ['nodesc', '---\nname: nodesc\n---\n', null],
  ['descwhite', '---\nname: descwhite\ndescription: "   "\n---\n', null],
  ['comment', '---\n# comment\nname: comment # trailing\ndescription: d # c\n---\n', ['comment', 'd', null]],
  ['anchor', '---\nname: &a anchor\ndescription: *a\n---\n', ['anchor', 'anchor', null]],
  ['tab', '---\nname:\tvalue\ndescription: d\n---\n', ['value', 'd', null]],
  ['tabindent', '---\nname: ti\n\tdescription: d\n---\n', null],
  ['flow', '---\n{name: flow, description: d}\n---\n', ['flow', 'd', null]],
  ['at', '---\nname: at\ndescription: @mention here\n---\n', ['at', '@mention here', null]],
  ['hash', '---\nname: hash#x\ndescription: d#e\n---\n', ['hash#x', 'd#e', null]],
  ['multidoc', '---\nname: md\ndescription: d\n...\n---\n', ['md', 'd', null]],
  ['nested', '---\nname: nested\ndescription: d\nfoo:\n  bar:\n    - 1\n    - {x: y}\n---\n', ['nested', 'd', null]],
];

test('SKILL.md front matter as the reference reads it', () => {
  for (const [dir, contents, expected] of FRONTMATTER) {
    const parsed = parseSkillFrontmatter(contents, () => dir.split(/\s+/).join(' '));
    assert.deepEqual(parsed ? [parsed.name, parsed.description, parsed.shortDescription] : null, expected, dir);
  }
});

/** [agents/openai.yaml, { dependencies, policy } the reference reported] */
const METADATA: Array<[string, unknown]> = [
  [
    'interface:\n  display_name: X\ndependencies:\n  tools:\n    - type: mcp\n      value: srv\n      description: "  desc  here "\n      transport: stdio\n      command: run it\n      url: http://x\n      oauth:\n        callbackPort: 8080\npolicy:\n  allow_implicit_invocation: true\n  products: [codex]\n',
    {
      dependencies: { tools: [{ type: 'mcp', value: 'srv', description: 'desc here', transport: 'stdio', command: 'run it', url: 'http://x', oauthCallbackPort: 8080 }] },
      policy: { allowImplicitInvocation: true, products: ['codex'] },
    },
  ],
  [
    'dependencies:\n  tools:\n    - type: mcp\n      value: srv\n      oauth:\n        callback_port: 9\n',
    { dependencies: { tools: [{ type: 'mcp', value: 'srv', description: null, transport: null, command: null, url: null, oauthCallbackPort: 9 }] }, policy: null },
  ],
  [
    'dependencies:\n  tools:\n    - value: srv\n    - type: t\n      value: v\n',
    { dependencies: { tools: [{ type: 't', value: 'v', description: null, transport: null, command: null, url: null, oauthCallbackPort: null }] }, policy: null },
  ],
  ['dependencies:\n  tools: []\n', { dependencies: null, policy: null }],
  ['dependencies: [\n', { dependencies: null, policy: null }],
  ['interface: hello\npolicy:\n  allow_implicit_invocation: false\n', { dependencies: null, policy: null }],
  ['policy: {}\n', { dependencies: null, policy: { allowImplicitInvocation: null, products: [] } }],
  ['policy:\n  products: [atlas, codex]\n', { dependencies: null, policy: { allowImplicitInvocation: null, products: ['atlas', 'codex'] } }],
  ['policy:\n  allow_implicit_invocation: "true"\n', { dependencies: null, policy: null }],
  ['', { dependencies: null, policy: null }],
  [
    'dependencies:\n  tools:\n    - type: 5\n      value: true\n',
    { dependencies: { tools: [{ type: '5', value: 'true', description: null, transport: null, command: null, url: null, oauthCallbackPort: null }] }, policy: null },
  ],
  [`dependencies:\n  tools:\n    - type: ${'x'.repeat(65)}\n      value: v\n`, { dependencies: null, policy: null }],
  ['other: 1\npolicy:\n  allow_implicit_invocation: false\n  extra: 2\n', { dependencies: null, policy: { allowImplicitInvocation: false, products: [] } }],
];

test('agents/openai.yaml dependencies and policy; unparsable files are ignored', () => {
  for (const [contents, expected] of METADATA) assert.deepEqual(parseSkillMetadataFile(contents), expected, contents);
  assert.deepEqual(parseSkillMetadataFile(null), { dependencies: null, policy: null });
});

test('yaml-lite: scalars, block and flow collections, errors', () => {
  const doc = parseYaml('a: 1\nb:\n  - x\n  - y: z\nc: {d: [1, 2]}\ne: "q\\u0041"\n') as Map<string, unknown>;
  assert.ok(doc instanceof Map);
  assert.deepEqual([...doc.keys()], ['a', 'b', 'c', 'e']);
  assert.equal((doc.get('a') as YamlScalar).text, '1');
  assert.equal(((doc.get('b') as unknown[])[1] as Map<string, YamlScalar>).get('y')!.text, 'z');
  assert.equal((doc.get('e') as YamlScalar).text, 'qA');
  assert.throws(() => parseYaml('a: b: c\n'), YamlError);
  assert.throws(() => parseYaml('a: 1\na: 2\n'), YamlError);
  assert.throws(() => parseYaml('a: "open\n'), YamlError);
  assert.equal(parseYaml(''), null);
});
