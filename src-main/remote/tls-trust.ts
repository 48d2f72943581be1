/**
 * Which CAs the registry client and the rendezvous socket trust for `https://` / `wss://`:
 * Node's bundled roots, plus the bundle named by `SSL_CERT_FILE` when that is set (the reference
 * honours it through its system trust store, and test setups use it for a private CA).
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** `ca` for https/tls options, or undefined for Node's defaults. Throws when the file cannot be read. */
export function trustedCas(env: NodeJS.ProcessEnv): string[] | undefined {
  const file = env.SSL_CERT_FILE;
  if (!file) return undefined;
  return [...rootCertificates, readFileSync(file, 'utf8')];
}
