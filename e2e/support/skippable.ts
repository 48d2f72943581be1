/**
 * `describe`, or when the suite cannot run here one skipped test carrying the reason: node's
 * runner does not count a skipped suite, and a skip must show up in the totals with its why.
 */
import { describe, test } from 'node:test';

export function suiteUnless(reason: string | false, name: string, options: { timeout: number }, body: () => void): void {
  if (reason === false) describe(name, options, body);
  else test(name, { skip: reason }, () => undefined);
}
