import { useMemo, useState } from 'react';
import type { LogLevel } from '../../src-main/control/contract.ts';
import { useDesk } from '../desk-context.ts';
import { formatClock } from '../format.ts';
import { Empty, Panel, useCapped } from './common.tsx';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function LogsView(): React.JSX.Element | null {
  const logs = useDesk((s) => s.snapshot?.logs ?? null);
  const [minLevel, setMinLevel] = useState<LogLevel>('info');
  const filtered = useMemo(() => {
    const floor = LEVELS.indexOf(minLevel);
    // Newest first.
    return (logs ?? []).filter((l) => LEVELS.indexOf(l.level) >= floor).reverse();
  }, [logs, minLevel]);
  const { shown, more } = useCapped(filtered, 100);
  if (logs === null) return null;
  return (
    <Panel
      title="Logs"
      id="logs"
      actions={
        <label>
          Minimum level{' '}
          <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as LogLevel)}>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
      }
    >
      {filtered.length === 0 ? (
        <Empty>No log entries at this level yet.</Empty>
      ) : (
        <ol className="logs" aria-label="Log entries, newest first">
          {shown.map((entry) => (
            <li key={entry.seq} className={`log log-${entry.level}`}>
              <time className="mono">{formatClock(entry.atMs)}</time>
              <span className="level">{entry.level}</span>
              <span className="message">{entry.message}</span>
              {entry.fields ? <code className="fields">{JSON.stringify(entry.fields)}</code> : null}
            </li>
          ))}
        </ol>
      )}
      {more}
    </Panel>
  );
}
