import { useActions, useDesk, useNow } from '../desk-context.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, Empty, Panel, useCapped } from './common.tsx';
import { streamTone } from './tones.ts';

export function StreamsView(): React.JSX.Element | null {
  const streams = useDesk((s) => s.snapshot?.streams ?? null);
  const { run } = useActions();
  const now = useNow();
  const { shown, more } = useCapped(streams ?? []);
  if (streams === null) return null;
  return (
    <Panel title="Relay streams" id="streams">
      {streams.length === 0 ? (
        <Empty>No relay streams. They appear when a harness reaches this executor through the registry.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Stream</th>
              <th scope="col">State</th>
              <th scope="col">In</th>
              <th scope="col">Out</th>
              <th scope="col">Age</th>
              <th scope="col">Session</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((stream) => (
              <tr key={stream.streamId} data-testid="stream-row">
                <td className="mono">{stream.streamId}</td>
                <td>
                  <Badge tone={streamTone(stream.state)}>{stream.state}</Badge>
                  {stream.endReason ? <span className="muted"> {stream.endReason}</span> : null}
                </td>
                <td>{formatBytes(stream.bytesIn)}</td>
                <td>{formatBytes(stream.bytesOut)}</td>
                <td>{formatDuration((stream.closedAtMs ?? now) - stream.openedAtMs)}</td>
                <td className="mono">{stream.sessionId ?? <span className="muted">none</span>}</td>
                <td>
                  {stream.state !== 'closed' ? (
                    <CommandButton
                      danger
                      pendingKey={commandKey('resetStream', stream.streamId)}
                      label={`Reset stream ${stream.streamId}`}
                      onClick={() => void run('resetStream', { streamId: stream.streamId }, commandKey('resetStream', stream.streamId))}
                    >
                      Reset
                    </CommandButton>
                  ) : null}
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
