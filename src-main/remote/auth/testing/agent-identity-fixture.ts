/**
 * Test support for Agent Identity: an RS256 signing key with its JWKS, an Ed25519 agent key, a
 * CODEX_ACCESS_TOKEN built from them, and one loopback server answering the JWKS and the task
 * registration (and recording every request).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AGENT_IDENTITY_AUDIENCE, AGENT_IDENTITY_ISSUER } from '../agent-identity-provider.ts';
import { startRecordingServer, type RecordingServer } from './registry-probe.ts';

export interface Answer {
  status: number;
  body?: unknown;
}

export interface AgentIdentityFixture {
  server: RecordingServer;
  /** What the JWKS and the task registration answer (changeable). */
  answers: { jwks: Answer; task: Answer };
  agentKey: { privateKey: KeyObject; publicKey: KeyObject };
  /** Env pointing both base URLs at the server. */
  env: Record<string, string>;
  token(overrides?: { claims?: Record<string, unknown>; kid?: string | null; iss?: string; aud?: string; exp?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function agentIdentityFixture(): Promise<AgentIdentityFixture> {
  const signing = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'kid-1', alg: 'RS256', use: 'sig' };
  const agentKey = generateKeyPairSync('ed25519');
  const server = await startRecordingServer();
  const answers = { jwks: { status: 200, body: { keys: [jwk] } } as Answer, task: { status: 200, body: { task_id: 'task-42' } } as Answer };
  server.answer = (req) => {
    if (req.url.endsWith('/agent-identities/jwks')) return answers.jwks;
    if (req.url.includes('/task/register')) return answers.task;
    return { status: 404, body: {} };
  };
  return {
    server,
    answers,
    agentKey,
    env: {
      CODEX_AGENT_IDENTITY_JWKS_BASE_URL: `${server.url}/jwks-base`,
      CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL: `${server.url}/authapi`,
    },
    async token(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        agent_runtime_id: 'runtime-1',
        agent_private_key: agentKey.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        account_id: 'acct-agent',
        chatgpt_user_id: 'user-1',
        email: 'agent@example.com',
        plan_type: 'pro',
        chatgpt_account_is_fedramp: false,
        ...overrides.claims,
      };
      const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
      if (overrides.kid !== null) header.kid = overrides.kid ?? 'kid-1';
      return new SignJWT(claims)
        .setProtectedHeader(header as { alg: string })
        .setIssuer(overrides.iss ?? AGENT_IDENTITY_ISSUER)
        .setAudience(overrides.aud ?? AGENT_IDENTITY_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(overrides.exp ?? now + 3600)
        .sign(signing.privateKey);
    },
    close: () => server.close(),
  };
}
