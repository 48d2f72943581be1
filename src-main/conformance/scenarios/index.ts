/** Every conformance scenario, in run order, grouped by area. */
import type { Scenario } from '../harness.ts';
import { authScenarios } from './auth.ts';
import { concurrencyScenarios } from './concurrency.ts';
import { envelopeScenarios } from './envelope.ts';
import { environmentScenarios } from './environment.ts';
import { environmentConfigScenarios } from './environment-config.ts';
import { fsScenarios } from './fs.ts';
import { httpScenarios } from './http.ts';
import { lifecycleScenarios } from './lifecycle.ts';
import { limitScenarios } from './limits.ts';
import { processScenarios } from './processes.ts';
import { sandboxScenarios } from './sandbox.ts';
import { sessionScenarios } from './sessions.ts';
import { stdioScenarios } from './stdio.ts';
import { timerScenarios } from './timers.ts';
import { transportScenarios } from './transport.ts';

export const scenarios: Scenario[] = [
  ...transportScenarios,
  ...limitScenarios,
  ...stdioScenarios,
  ...envelopeScenarios,
  ...lifecycleScenarios,
  ...sessionScenarios,
  ...concurrencyScenarios,
  ...processScenarios,
  ...environmentScenarios,
  ...environmentConfigScenarios,
  ...fsScenarios,
  ...httpScenarios,
  ...authScenarios,
  ...sandboxScenarios,
  ...timerScenarios,
];

export function findScenarios(pattern: string): Scenario[] {
  const exact = scenarios.filter((s) => s.name === pattern);
  if (exact.length > 0) return exact;
  return scenarios.filter((s) => s.name.startsWith(pattern) || s.name.includes(pattern));
}
