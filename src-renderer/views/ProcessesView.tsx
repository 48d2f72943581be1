import { useMemo } from 'react';
import { useActions, useDesk, useNow } from '../desk-context.ts';
import { formatArgv, formatBytes, formatDuration } from '../format.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, Empty, Field, Panel, useCapped } from './common.tsx';
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
                  <Field label="pid">{p.pid}</Field>
                  <Field label="id">
                    <span className="mono">{p.processId}</span>
                  </Field>
                  <Field label="exit code">
                    <span data-testid="process-exit-code">{p.exitCode ?? '—'}</span>
                  </Field>
                  <Field label="duration">{formatDuration((p.exitedAtMs ?? now) - p.startedAtMs)}</Field>
                  <Field label="output">{formatBytes(p.outputBytes)}</Field>
                  <Field label="cwd">
                    <span className="mono">{p.cwd}</span>
                  </Field>
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
