/** Tests for codex-home.ts; the /etc/hosts cases were checked against the 0.169.0 binary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalNameFromHosts } from './codex-home.ts';

test('hostname: the first /etc/hosts name for the host, when fully qualified', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1 localhost\n127.0.0.1 runsc\n127.0.0.1 vm\n', 'vm'],
    ['127.0.0.1 localhost\n127.0.0.1 vm.fqdn.example vm\n', 'vm.fqdn.example'],
    ['127.0.0.1 localhost\n127.0.0.2 second vm\n', 'vm'],
    ['127.0.0.1 localhost\n::1 v6.example vm\n127.0.0.3 v4.example vm\n', 'v6.example'],
    ['127.0.0.1 localhost\n# 127.0.0.1 commented.example vm\n', 'vm'],
    ['127.0.0.1 localhost\n', 'vm'],
  ];
  for (const [hosts, expected] of cases) assert.equal(canonicalNameFromHosts(hosts, 'vm'), expected, hosts);
});
