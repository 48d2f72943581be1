import { useActions, useDesk, useNow } from '../desk-context.ts';
import { formatClock, formatCountdown, formatDuration, registrationLabel } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, Empty, Field, Panel } from './common.tsx';
import { registrationTone } from './tones.ts';

export function RegistrationView(): React.JSX.Element | null {
  const registration = useDesk((s) => s.snapshot?.registration ?? null);
  const { run, setView } = useActions();
  const now = useNow();
  if (registration === null) return null;
  const active = registration.status !== 'stopped' && registration.status !== 'error' && registration.status !== 'auth_needed';
  const actions = registration.configured ? (
    <>
      {active ? (
        <CommandButton pendingKey={commandKey('disconnectRemote')} onClick={() => void run('disconnectRemote', undefined)}>
          Disconnect
        </CommandButton>
      ) : (
        <CommandButton pendingKey={commandKey('connectRemote')} onClick={() => void run('connectRemote', undefined)}>
          Connect
        </CommandButton>
      )}
      {registration.status === 'reconnecting' ? (
        <CommandButton pendingKey={commandKey('reconnectRemoteNow')} onClick={() => void run('reconnectRemoteNow', undefined)}>
          Reconnect now
        </CommandButton>
      ) : null}
    </>
  ) : undefined;
  return (
    <Panel title="Remote registration" id="registration" actions={actions}>
      {!registration.configured ? (
        <Empty>
          No registry is configured, so this executor is only reachable on its local listener.{' '}
          <button type="button" className="link" onClick={() => setView('settings')}>
            Set up remote access
          </button>
        </Empty>
      ) : null}
      <dl className="facts">
        <Field label="State">
          <Badge tone={registrationTone(registration.status)} label={`Registration state: ${registrationLabel(registration.status)}`}>
            <span data-testid="registration-state">{registrationLabel(registration.status)}</span>
          </Badge>
          {registration.status === 'reconnecting' && registration.nextAttemptAtMs !== null ? (
            <span className="muted" data-testid="next-attempt">
              {' '}
              next attempt {formatCountdown(registration.nextAttemptAtMs, now)}
            </span>
          ) : null}
          {registration.status === 'online' && registration.onlineSinceMs !== null ? (
            <span className="muted"> for {formatDuration(now - registration.onlineSinceMs)}</span>
          ) : null}
        </Field>
        <Field label="Registry">{registration.registryUrl ?? <span className="muted">none</span>}</Field>
        <Field label="Environment">{registration.environmentId ?? <span className="muted">none</span>}</Field>
        <Field label="Name">{registration.name ?? <span className="muted">none</span>}</Field>
        <Field label="Transport">{registration.transport}</Field>
        <Field label="Auth method">{registration.authMethod ?? <span className="muted">none</span>}</Field>
        <Field label="Registration id">{registration.registrationId ?? <span className="muted">not registered</span>}</Field>
        <Field label="Attempts">{registration.attempts}</Field>
        <Field label="Last error">
          {registration.lastError === null ? (
            <span className="muted">none</span>
          ) : (
            <span className="error-text">
              {registration.lastError}
              {registration.lastErrorAtMs !== null ? ` (at ${formatClock(registration.lastErrorAtMs)})` : ''}
            </span>
          )}
        </Field>
      </dl>
    </Panel>
  );
}
