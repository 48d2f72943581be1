import { useState } from 'react';
import { useActions, useDesk } from '../desk-context.ts';
import { commandKey } from '../store/desk-store.ts';
import { Badge, CommandButton, Field, Panel } from './common.tsx';
import { listenerTone } from './tones.ts';

export function ListenerView(): React.JSX.Element | null {
  const listener = useDesk((s) => s.snapshot?.listener ?? null);
  const { run } = useActions();
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  if (listener === null) return null;
  const copy = async () => {
    if (listener.url === null) return;
    try {
      await navigator.clipboard.writeText(listener.url);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  const running = listener.status === 'listening' || listener.status === 'starting';
  return (
    <Panel
      title="Local listener"
      id="listener"
      actions={
        running ? (
          <CommandButton pendingKey={commandKey('stopListener')} onClick={() => void run('stopListener', undefined)}>
            Stop listener
          </CommandButton>
        ) : (
          <CommandButton pendingKey={commandKey('startListener')} onClick={() => void run('startListener', undefined)}>
            Start listener
          </CommandButton>
        )
      }
    >
      <dl className="facts">
        <Field label="Status">
          <Badge tone={listenerTone(listener.status)}>{listener.status}</Badge>
        </Field>
        <Field label="URL">
          {listener.url === null ? (
            <span className="muted">not bound</span>
          ) : (
            <span className="url-row">
              <code data-testid="listener-url">{listener.url}</code>
              <button type="button" onClick={() => void copy()} aria-label="Copy listener URL">
                Copy
              </button>
              <span role="status" className="muted">
                {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed: select the URL instead' : ''}
              </span>
            </span>
          )}
        </Field>
        <Field label="Client auth">{listener.authMode}</Field>
        <Field label="Open connections">{listener.connections}</Field>
        {listener.lastError ? (
          <Field label="Last error">
            <span className="error-text">{listener.lastError}</span>
          </Field>
        ) : null}
      </dl>
    </Panel>
  );
}
