import { useActions, useDesk, useNow } from '../desk-context.ts';
import { formatDuration, registrationLabel } from '../format.ts';
import type { ViewName } from '../store/desk-store.ts';
import { Badge, Field, Panel } from './common.tsx';
import { listenerTone, registrationTone } from './tones.ts';

export function OverviewView(): React.JSX.Element | null {
  const snapshot = useDesk((s) => s.snapshot);
  const { setView } = useActions();
  const now = useNow();
  if (snapshot === null) return null;
  const running = snapshot.processes.filter((p) => p.state === 'running').length;
  const attached = snapshot.sessions.filter((s) => s.state === 'attached').length;
  const openStreams = snapshot.streams.filter((s) => s.state !== 'closed').length;
  const card = (view: ViewName, title: string, body: React.JSX.Element) => (
    <button type="button" className="card" onClick={() => setView(view)}>
      <span className="card-title">{title}</span>
      {body}
    </button>
  );
  return (
    <Panel title="Status" id="overview">
      <div className="cards">
        {card(
          'listener',
          'Local listener',
          <>
            <Badge tone={listenerTone(snapshot.listener.status)}>{snapshot.listener.status}</Badge>
            <span className="mono">{snapshot.listener.url ?? 'not bound'}</span>
          </>,
        )}
        {card(
          'registration',
          'Remote registration',
          <Badge tone={registrationTone(snapshot.registration.status)}>
            {snapshot.registration.configured ? registrationLabel(snapshot.registration.status) : 'Not configured'}
          </Badge>,
        )}
        {card('sessions', 'Sessions', <span className="big">{`${attached} attached / ${snapshot.sessions.length}`}</span>)}
        {card('processes', 'Processes', <span className="big">{`${running} running / ${snapshot.processes.length}`}</span>)}
        {card('streams', 'Relay streams', <span className="big">{`${openStreams} open`}</span>)}
      </div>
      <dl className="facts">
        <Field label="Version">{snapshot.version}</Field>
        <Field label="Running as">{snapshot.host === 'desktop' ? 'desktop app' : 'headless (--no-ui)'}</Field>
        <Field label="Up for">{formatDuration(now - snapshot.startedAtMs)}</Field>
      </dl>
    </Panel>
  );
}
