/**
 * The direct transport's registration answer (remote-protocol.md §13), checked in the order and
 * with the texts of codex-cli 0.169.0 (probed): JSON shape (serde's missing-field text), then
 * environment id, then transport, then non-empty registration id and url, then the url rules
 * (parsable; `wss://` or loopback `ws://`). Unlike `/register`, nothing is retried: 0.169.0
 * exits on 502 authentication_service_unavailable and 503 registration_conflict too.
 */
import { checkDirectWebSocketUrl } from './auth/sigv4-provider.ts';
import { jsonFieldError, PROTOCOL_ERROR, RegistryClient, RegistryError, registryEndpoint, rustTrim } from './registry-client.ts';

/** What `/direct/register` is asked for and must answer. */
export const DIRECT_TRANSPORT = 'direct_jsonrpc_v1';
/** The registration request body, byte for byte as 0.169.0 sends it. */
export const DIRECT_REGISTER_BODY = JSON.stringify({ transport: DIRECT_TRANSPORT });

const INVALID_ENDPOINT_URL = 'environment registry configuration error: invalid remote endpoint URL';

export interface DirectRegistration {
  environmentId: string;
  registrationId: string;
  /** The signed WebSocket URL to dial (opaque; may carry a capability in its query). */
  url: string;
}

export function parseDirectRegistration(body: Buffer, environmentId: string): DirectRegistration {
  const record = jsonFieldError(body, ['environment_id', 'transport', 'registration_id', 'url'], 'DirectRegistrationResponse');
  if (record.environment_id !== rustTrim(environmentId)) {
    throw new RegistryError(`${PROTOCOL_ERROR}: environment registry returned a different environment id`, 'fatal');
  }
  if (record.transport !== DIRECT_TRANSPORT) {
    throw new RegistryError(`${PROTOCOL_ERROR}: environment registry returned unsupported direct transport \`${record.transport}\``, 'fatal');
  }
  if (record.registration_id === '' || record.url === '') {
    throw new RegistryError(`${PROTOCOL_ERROR}: environment registry returned incomplete direct connection data`, 'fatal');
  }
  let url: URL;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(record.url)) {
    throw new RegistryError(`${INVALID_ENDPOINT_URL}: relative URL without a base`, 'fatal');
  }
  try {
    url = new URL(record.url);
  } catch {
    throw new RegistryError(`${INVALID_ENDPOINT_URL}: invalid URL`, 'fatal');
  }
  try {
    checkDirectWebSocketUrl(url);
  } catch (error) {
    throw new RegistryError((error as Error).message, 'fatal');
  }
  return { environmentId: record.environment_id, registrationId: record.registration_id, url: record.url };
}

/** `POST {base}/cloud/environment/{id}/direct/register`, signed by the client's provider. */
export async function registerDirect(
  client: RegistryClient,
  target: { registryUrl: string; environmentId: string },
  signal?: AbortSignal,
): Promise<DirectRegistration> {
  const url = registryEndpoint(target.registryUrl, target.environmentId, 'direct/register');
  const body = await client.postOnce(url, Buffer.from(DIRECT_REGISTER_BODY, 'utf8'), signal);
  return parseDirectRegistration(body, target.environmentId);
}
