import type { SessionView } from '../../src-main/control/contract.ts';
import { useActions, useDesk, useNow } from '../desk-context.ts';
import { carrierLabel, formatCountdown, formatDuration } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, TablePanel, type Column } from './common.tsx';

export function SessionsView(): React.JSX.Element | null {
  const sessions = useDesk((s) => s.snapshot?.sessions ?? null);
  const { run } = useActions();
  const now = useNow();
  if (sessions === null) return null;
  const columns: Column<SessionView>[] = [
    { header: 'Session', cell: (s) => s.sessionId, className: 'mono' },
    { header: 'Client', cell: (s) => s.clientName },
    { header: 'Carrier', cell: (s) => carrierLabel(s.carrier) },
    {
      header: 'State',
      cell: (s) => (
        <>
          <Badge tone={s.state === 'attached' ? 'ok' : 'warn'}>{s.state}</Badge>
          {s.state === 'detached' && s.expiresAtMs !== null ? (
            <span className="muted" data-testid="session-expiry">
              {' '}
              expires {formatCountdown(s.expiresAtMs, now)}
            </span>
          ) : null}
        </>
      ),
    },
    { header: 'Processes', cell: (s) => s.processCount },
    { header: 'Age', cell: (s) => formatDuration(now - s.createdAtMs) },
  ];
  return (
    <TablePanel
      title="Sessions"
      id="sessions"
      rows={sessions}
      empty="No sessions yet. A client that connects to the local listener or over the relay starts one."
      columns={columns}
      rowKey={(s) => s.sessionId}
      rowAttributes={(s) => ({ 'data-testid': 'session-row', 'data-session-id': s.sessionId })}
      actions={(s) => (
        <CommandButton
          danger
          pendingKey={commandKey('closeSession', s.sessionId)}
          label={`Close session ${s.sessionId}`}
          onClick={() => void run('closeSession', { sessionId: s.sessionId }, commandKey('closeSession', s.sessionId))}
        >
          Close
        </CommandButton>
      )}
    />
  );
}
