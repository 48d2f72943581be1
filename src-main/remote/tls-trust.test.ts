/**
 * `https://` registries and `wss://` rendezvous URLs: trusted through `SSL_CERT_FILE` (a test CA
 * in a temp file), refused without it. Loopback TLS servers with the project's test certificates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../core/log.ts';
import { TEST_CA_PEM, TEST_LEAF_CERT_PEM, TEST_LEAF_KEY_PEM } from '../core/http/test-certs.ts';
import { testAuthProvider } from '../testkit/remote/test-auth.ts';
import { generateIdentity, publicKeyOf } from '../transport/noise/hybrid-ik.ts';
import { RegistryClient } from './registry-client.ts';
import { RendezvousSocket } from './rendezvous-socket.ts';
import { trustedCas } from './tls-trust.ts';

test('SSL_CERT_FILE adds a CA for the registry client and the rendezvous socket; without it TLS fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'exec-desk-tls-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, TEST_CA_PEM);
  const server = createServer({ cert: TEST_LEAF_CERT_PEM, key: TEST_LEAF_KEY_PEM }, (req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ valid: true })));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    assert.equal(trustedCas({}), undefined);
    assert.ok(trustedCas({ SSL_CERT_FILE: caFile })!.includes(TEST_CA_PEM));
    assert.throws(() => trustedCas({ SSL_CERT_FILE: join(dir, 'missing.pem') }));

    const request = { registrationId: 'r', harnessKey: publicKeyOf(generateIdentity()), authorization: 'a' };
    const trusted = new RegistryClient({ registryUrl: `https://127.0.0.1:${port}`, environmentId: 'e', auth: testAuthProvider('k'), env: { SSL_CERT_FILE: caFile } });
    assert.equal(await trusted.validate(request), 'valid');
    const untrusted = new RegistryClient({ registryUrl: `https://127.0.0.1:${port}`, environmentId: 'e', auth: testAuthProvider('k'), env: {} });
    await assert.rejects(untrusted.validate(request), /error sending request for url \(https:\/\/127\.0\.0\.1:\d+\/cloud\/environment\/e\/validate\)/);

    const ok = await RendezvousSocket.connect({ url: `wss://127.0.0.1:${port}/rendezvous`, log: silentLogger, env: { SSL_CERT_FILE: caFile } });
    assert.ok(ok.ok, ok.ok ? '' : ok.error);
    ok.socket.drop();
    const refused = await RendezvousSocket.connect({ url: `wss://127.0.0.1:${port}/rendezvous`, log: silentLogger, env: {} });
    assert.ok(!refused.ok && !refused.rejected);
  } finally {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});
