/**
 * The slice of the AWS SDK credential/region chain the 0.169.0 binary was observed to use for
 * `--aws-sigv4` (static keys only; SSO, process, web-identity and IMDS providers are not
 * implemented):
 *   - region: `--aws-region` > AWS_REGION > AWS_DEFAULT_REGION > the profile's `region`
 *     (config file) — else `AWS SDK config did not resolve a region`;
 *   - credentials: with `--aws-profile`, that profile only (missing/incomplete → "not properly
 *     configured"); without it, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
 *     first, then the profile named by AWS_PROFILE or `default` (nothing → "not enabled").
 * Profiles come from AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and AWS_CONFIG_FILE
 * (~/.aws/config, `[profile name]` sections). The secret key is returned to the caller only.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from './auth-provider.ts';
import type { AwsCredentials } from './sigv4.ts';

export const NO_REGION_MESSAGE = 'AWS SDK config did not resolve a region';
const CREDENTIALS_PREFIX =
  'environment registry authentication error: failed to resolve environment registry authentication: request auth build error: failed to load AWS credentials: ';
export const CREDENTIALS_NOT_ENABLED_MESSAGE = `${CREDENTIALS_PREFIX}the credential provider was not enabled`;
export const CREDENTIALS_NOT_CONFIGURED_MESSAGE = `${CREDENTIALS_PREFIX}the credentials provider was not properly configured`;

type Ini = Map<string, Map<string, string>>;

function readIni(path: string): Ini {
  const sections: Ini = new Map();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return sections;
  }
  let current: Map<string, string> | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]!) ?? new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (pair && current) current.set(pair[1]!.toLowerCase(), pair[2]!);
  }
  return sections;
}

interface Profiles {
  credentials: Ini;
  config: Ini;
}

function loadProfiles(env: NodeJS.ProcessEnv): Profiles {
  const home = env.HOME || homedir();
  return {
    credentials: readIni(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')),
    config: readIni(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')),
  };
}

/** A profile's settings: the credentials file wins over the config file. */
function profileSettings(profiles: Profiles, name: string): Map<string, string> | null {
  const fromConfig = profiles.config.get(name === 'default' ? 'default' : `profile ${name}`) ?? (name === 'default' ? profiles.config.get('profile default') : undefined);
  const fromCredentials = profiles.credentials.get(name);
  if (!fromConfig && !fromCredentials) return null;
  return new Map([...(fromConfig ?? new Map()), ...(fromCredentials ?? new Map())]);
}

function staticKeys(settings: Map<string, string> | null): AwsCredentials | null {
  const accessKeyId = settings?.get('aws_access_key_id');
  const secretAccessKey = settings?.get('aws_secret_access_key');
  if (!accessKeyId || !secretAccessKey) return null;
  const sessionToken = settings?.get('aws_session_token');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

export interface AwsSetup {
  region: string;
  credentials: AwsCredentials;
}

export function resolveAwsSetup(env: NodeJS.ProcessEnv, flags: { profile: string | null; region: string | null }): AwsSetup {
  const profiles = loadProfiles(env);
  const profileName = flags.profile ?? (env.AWS_PROFILE || 'default');
  const settings = profileSettings(profiles, profileName);
  const region = flags.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || settings?.get('region');
  if (!region) throw new AuthError(NO_REGION_MESSAGE);

  if (flags.profile !== null) {
    const credentials = staticKeys(settings);
    if (!credentials) throw new AuthError(CREDENTIALS_NOT_CONFIGURED_MESSAGE, 'auth_needed');
    return { region, credentials };
  }
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (accessKeyId && secretAccessKey) return { region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
  const credentials = staticKeys(settings);
  if (!credentials) throw new AuthError(CREDENTIALS_NOT_ENABLED_MESSAGE, 'auth_needed');
  return { region, credentials };
}
