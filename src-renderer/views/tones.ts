/** Which badge colour a state gets. */
import type { ListenerStatus, ProcessStatus, RegistrationStatus, StreamState } from '../../src-main/control/contract.ts';

type Tone = 'ok' | 'warn' | 'bad' | 'idle';

export function listenerTone(status: ListenerStatus): Tone {
  return status === 'listening' ? 'ok' : status === 'error' ? 'bad' : status === 'starting' ? 'warn' : 'idle';
}

export function registrationTone(status: RegistrationStatus): Tone {
  switch (status) {
    case 'online':
      return 'ok';
    case 'registering':
    case 'connecting':
    case 'reconnecting':
      return 'warn';
    case 'auth_needed':
    case 'error':
      return 'bad';
    case 'stopped':
      return 'idle';
  }
}

export function streamTone(state: StreamState): Tone {
  return state === 'open' ? 'ok' : state === 'closed' ? 'idle' : 'warn';
}

export function processTone(state: ProcessStatus, exitCode: number | null): Tone {
  if (state === 'running') return 'ok';
  return exitCode === 0 ? 'idle' : 'bad';
}
