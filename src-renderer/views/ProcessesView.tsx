import { useMemo } from 'react';
import { useActions, useDesk, useNow } from '../desk-context.ts';
import { formatArgv, formatBytes, formatDuration } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, Empty, Panel, useCapped } from './common.tsx';
import { processTone } from './tones.ts';

export function ProcessesView(): React.JSX.Element | null {
  const processes = useDesk((s) => s.snapshot?.processes ?? null);
  const { run } = useActions();
  const now = useNow();
  // Newest first: the process someone just started is the one they look for.
  const ordered = useMemo(() => (processes ?? []).slice().reverse(), [processes]);
  const { shown, more } = useCapped(ordered, 20);
  if (processes === null) return null;
  return (
    <Panel title="Processes" id="processes">
      {processes.length === 0 ? (
        <Empty>No processes. They appear here when a client runs a command.</Empty>
      ) : (
        <ul className="process-list">
          {shown.map((p) => {
            const key = commandKey('terminateProcess', `${p.sessionId}/${p.processId}`);
            return (
              <li key={`${p.sessionId}/${p.processId}`} className="process" data-testid="process-row" data-pid={p.pid} data-process-id={p.processId}>
                <div className="process-head">
                  <code className="argv">{formatArgv(p.argv)}</code>
                  <Badge tone={processTone(p.state, p.exitCode)}>
                    <span data-testid="process-state">{p.state}</span>
                  </Badge>
                  {p.state === 'running' ? (
                    <CommandButton
                      danger
                      pendingKey={key}
                      label={`Kill process ${p.processId} (pid ${p.pid})`}
                      onClick={() => void run('terminateProcess', { sessionId: p.sessionId, processId: p.processId }, key)}
                    >
                      Kill
                    </CommandButton>
                  ) : null}
                </div>
                <dl className="facts inline">
                  <div className="field">
                    <dt>pid</dt>
                    <dd>{p.pid}</dd>
                  </div>
                  <div className="field">
                    <dt>id</dt>
                    <dd className="mono">{p.processId}</dd>
                  </div>
                  <div className="field">
                    <dt>exit code</dt>
                    <dd data-testid="process-exit-code">{p.exitCode ?? '—'}</dd>
                  </div>
                  <div className="field">
                    <dt>duration</dt>
                    <dd>{formatDuration((p.exitedAtMs ?? now) - p.startedAtMs)}</dd>
                  </div>
                  <div className="field">
                    <dt>output</dt>
                    <dd>{formatBytes(p.outputBytes)}</dd>
                  </div>
                  <div className="field">
                    <dt>cwd</dt>
                    <dd className="mono">{p.cwd}</dd>
                  </div>
                </dl>
                <pre className="tail" data-testid="process-tail" aria-label={`Output of ${p.processId}`} tabIndex={0}>
                  {p.tail === '' ? '(no output yet)' : p.tail}
                </pre>
              </li>
            );
          })}
        </ul>
      )}
      {more}
    </Panel>
  );
}
