/**
 * UUID strings as the `uuid` crate parses them (e.g. `metadata.threadId` of process/start):
 * simple (32 hex), hyphenated (36), braced `{…}` or `urn:uuid:` prefixed; failures are reported
 * with the crate's texts, which the reference forwards as -32602 messages.
 */
import { custom, fail, invalidType } from './serde.ts';

const BLOCK_STARTS = [0, 9, 14, 19, 24] as const;
const GROUP_LENGTHS = [8, 4, 4, 4, 12] as const;
const HEX = /^[0-9a-fA-F]$/;

function isValid(input: string): boolean {
  let body = input;
  if (input.length === 38 && input.startsWith('{') && input.endsWith('}')) body = input.slice(1, -1);
  else if (input.length === 45 && input.startsWith('urn:uuid:')) body = input.slice(9);
  if (body.length === 32 && input.length === 32) return /^[0-9a-fA-F]{32}$/.test(body);
  if (body.length !== 36) return false;
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(body);
}

/** The uuid crate's explanation of why `input` is not a UUID. */
export function uuidParseError(input: string): string {
  let body = input;
  let offset = 0;
  let simple = true;
  if (input.length >= 2 && input.startsWith('{') && input.endsWith('}')) {
    body = input.slice(1, -1);
    offset = 1;
    simple = false;
  } else if (input.startsWith('urn:uuid:')) {
    body = input.slice(9);
    offset = 9;
    simple = false;
  }
  let hyphens = 0;
  const bounds: number[] = [];
  let byteIndex = 0;
  for (const ch of body) {
    if (ch === '-') {
      if (hyphens < 4) bounds.push(byteIndex);
      hyphens += 1;
    } else if (!HEX.test(ch)) {
      return `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${byteIndex + offset + 1}`;
    }
    byteIndex += Buffer.byteLength(ch, 'utf8');
  }
  const inputBytes = Buffer.byteLength(input, 'utf8');
  if (hyphens === 0 && simple) return `invalid length: expected length 32 for simple format, found ${inputBytes}`;
  if (hyphens !== 4) return `invalid group count: expected 5, found ${hyphens + 1}`;
  for (let i = 0; i < 4; i++) {
    if (bounds[i] !== BLOCK_STARTS[i + 1]! - 1) {
      return `invalid group length in group ${i}: expected ${GROUP_LENGTHS[i]}, found ${bounds[i]! - BLOCK_STARTS[i]!}`;
    }
  }
  // The crate measures the last group against the whole input, prefix included.
  return `invalid group length in group 4: expected 12, found ${inputBytes - BLOCK_STARTS[4]}`;
}

/** A string field that must parse as a UUID. */
export function uuidString() {
  return custom('a string', (value) => {
    if (typeof value !== 'string') return invalidType(value, 'a string');
    if (!isValid(value)) fail(uuidParseError(value));
    return value;
  });
}
