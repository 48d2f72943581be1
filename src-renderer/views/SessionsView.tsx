import { useActions, useDesk, useNow } from '../desk-context.ts';
import { carrierLabel, formatCountdown, formatDuration } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, Empty, Panel, useCapped } from './common.tsx';

export function SessionsView(): React.JSX.Element | null {
  const sessions = useDesk((s) => s.snapshot?.sessions ?? null);
  const { run } = useActions();
  const now = useNow();
  const { shown, more } = useCapped(sessions ?? []);
  if (sessions === null) return null;
  return (
    <Panel title="Sessions" id="sessions">
      {sessions.length === 0 ? (
        <Empty>No sessions yet. A client that connects to the local listener or over the relay starts one.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Client</th>
              <th scope="col">Carrier</th>
              <th scope="col">State</th>
              <th scope="col">Processes</th>
              <th scope="col">Age</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((session) => (
              <tr key={session.sessionId} data-testid="session-row" data-session-id={session.sessionId}>
                <td className="mono">{session.sessionId}</td>
                <td>{session.clientName}</td>
                <td>{carrierLabel(session.carrier)}</td>
                <td>
                  <Badge tone={session.state === 'attached' ? 'ok' : 'warn'}>{session.state}</Badge>
                  {session.state === 'detached' && session.expiresAtMs !== null ? (
                    <span className="muted" data-testid="session-expiry">
                      {' '}
                      expires {formatCountdown(session.expiresAtMs, now)}
                    </span>
                  ) : null}
                </td>
                <td>{session.processCount}</td>
                <td>{formatDuration(now - session.createdAtMs)}</td>
                <td>
                  <CommandButton
                    danger
                    pendingKey={commandKey('closeSession', session.sessionId)}
                    label={`Close session ${session.sessionId}`}
                    onClick={() => void run('closeSession', { sessionId: session.sessionId }, commandKey('closeSession', session.sessionId))}
                  >
                    Close
                  </CommandButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more}
    </Panel>
  );
}
