/**
 * The one `$CODEX_HOME/config.toml` setting the auth code needs: `chatgpt_base_url` (the binary's
 * ChatGPT backend, default `https://chatgpt.com/backend-api/`). Only a top-level basic string is
 * understood; anything else falls back to the default.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_CHATGPT_BASE_URL = 'https://chatgpt.com/backend-api/';

export async function chatgptBaseUrl(codexHome: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(join(codexHome, 'config.toml'), 'utf8');
  } catch {
    return DEFAULT_CHATGPT_BASE_URL;
  }
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*\[/.test(line)) break; // top-level keys come before the first table
    const match = /^\s*chatgpt_base_url\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/.exec(line);
    if (match) return JSON.parse(`"${match[1]}"`) as string;
  }
  return DEFAULT_CHATGPT_BASE_URL;
}
