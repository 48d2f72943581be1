/**
 * Reads a JWT's payload WITHOUT verifying it — for tokens whose issuer we trust by where they came
 * from (auth.json, our own stdin), to learn `exp` and the ChatGPT account claim. Agent Identity
 * tokens are verified with `jose` instead (agent-identity-provider.ts).
 */
import { decodeJwt } from 'jose';

/** The claim object ChatGPT tokens carry (`chatgpt_account_id`, `chatgpt_plan_type`, …). */
export const OPENAI_AUTH_CLAIM = 'https://api.openai.com/auth';

/** The payload, or null when the token is not JWT-shaped or its payload is not a JSON object. */
export function jwtPayload(token: string): Record<string, unknown> | null {
  try {
    return decodeJwt(token) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** `exp` in seconds since the epoch, or null. */
export function jwtExpiry(token: string): number | null {
  const exp = jwtPayload(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : null;
}

/** `"https://api.openai.com/auth".chatgpt_account_id`, or null. */
export function chatgptAccountIdClaim(payload: Record<string, unknown>): string | null {
  const auth = payload[OPENAI_AUTH_CLAIM];
  if (auth === null || typeof auth !== 'object') return null;
  const id = (auth as Record<string, unknown>).chatgpt_account_id;
  return typeof id === 'string' && id !== '' ? id : null;
}
