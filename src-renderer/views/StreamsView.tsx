import type { StreamView } from '../../src-main/control/contract.ts';
import { useActions, useDesk, useNow } from '../desk-context.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, TablePanel, type Column } from './common.tsx';
import { streamTone } from './tones.ts';

export function StreamsView(): React.JSX.Element | null {
  const streams = useDesk((s) => s.snapshot?.streams ?? null);
  const { run } = useActions();
  const now = useNow();
  if (streams === null) return null;
  const columns: Column<StreamView>[] = [
    { header: 'Stream', cell: (s) => s.streamId, className: 'mono' },
    {
      header: 'State',
      cell: (s) => (
        <>
          <Badge tone={streamTone(s.state)}>{s.state}</Badge>
          {s.endReason ? <span className="muted"> {s.endReason}</span> : null}
        </>
      ),
    },
    { header: 'In', cell: (s) => formatBytes(s.bytesIn) },
    { header: 'Out', cell: (s) => formatBytes(s.bytesOut) },
    { header: 'Age', cell: (s) => formatDuration((s.closedAtMs ?? now) - s.openedAtMs) },
    { header: 'Session', cell: (s) => s.sessionId ?? <span className="muted">none</span>, className: 'mono' },
  ];
  return (
    <TablePanel
      title="Relay streams"
      id="streams"
      rows={streams}
      empty="No relay streams. They appear when a harness reaches this executor through the registry."
      columns={columns}
      rowKey={(s) => s.streamId}
      rowAttributes={() => ({ 'data-testid': 'stream-row' })}
      actions={(s) =>
        s.state !== 'closed' ? (
          <CommandButton
            danger
            pendingKey={commandKey('resetStream', s.streamId)}
            label={`Reset stream ${s.streamId}`}
            onClick={() => void run('resetStream', { streamId: s.streamId }, commandKey('resetStream', s.streamId))}
          >
            Reset
          </CommandButton>
        ) : null
      }
    />
  );
}
