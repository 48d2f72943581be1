/**
 * `--registration-bearer-stdin` (remote-protocol.md §3.4, texts and bounds measured on 0.169.0):
 * one newline-terminated line of at most 16 KiB (newline included; a CR before it is dropped),
 * visible ASCII only. Header `authorization: Bearer <line>`; CODEX_API_KEY is ignored; the registry
 * must be https or loopback http.
 * The bearer is kept only in this object's private field.
 */
import type { Readable } from 'node:stream';
import { AuthError, type AuthProvider, type RegistryRequest } from './auth-provider.ts';
import { BoundedLineReader, isBearerToken } from './bounded-line-reader.ts';
import { checkHttpsOrLoopback } from './registry-url.ts';

export const REGISTRATION_BEARER_MAX_LINE_BYTES = 16 * 1024;
export const BEARER_NOT_TERMINATED_MESSAGE = 'expected a newline-terminated registration bearer of at most 16 KiB';
export const INVALID_BEARER_MESSAGE = 'invalid registration bearer';

export class RegistrationBearerProvider implements AuthProvider {
  readonly method = 'registration-bearer' as const;
  readonly omitsRegistryErrorBody = true;
  readonly #bearer: string;

  private constructor(bearer: string) {
    this.#bearer = bearer;
  }

  /** Reads the one line (waits as long as stdin stays open, like the binary). */
  static async fromStdin(stdin: Readable, signal?: AbortSignal): Promise<RegistrationBearerProvider> {
    const reader = new BoundedLineReader(stdin, REGISTRATION_BEARER_MAX_LINE_BYTES);
    try {
      const result = await reader.next(signal);
      if (result.kind !== 'line') throw new AuthError(BEARER_NOT_TERMINATED_MESSAGE);
      if (!isBearerToken(result.bytes)) throw new AuthError(INVALID_BEARER_MESSAGE);
      return new RegistrationBearerProvider(result.bytes.toString('latin1'));
    } finally {
      reader.close();
    }
  }

  async headers(_request: RegistryRequest): Promise<Array<[string, string]>> {
    return [['authorization', `Bearer ${this.#bearer}`]];
  }

  /** Nothing to refresh: a 401 is final. */
  async refreshAfterUnauthorized(): Promise<boolean> {
    return false;
  }

  /** `https://` or loopback `http://` (observed on 0.169.0, checked after the credential is read). */
  checkRegistryUrl(base: URL): void {
    checkHttpsOrLoopback(base);
  }

  close(): void {}
}
