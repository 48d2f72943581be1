import { useActions, useDesk } from './desk-context.ts';
import { VIEW_NAMES, type ViewName } from './store/desk-store.ts';
import { formatClock } from './format.ts';
import { ListenerView } from './views/ListenerView.tsx';
import { LogsView } from './views/LogsView.tsx';
import { OverviewView } from './views/OverviewView.tsx';
import { ProcessesView } from './views/ProcessesView.tsx';
import { RegistrationView } from './views/RegistrationView.tsx';
import { SessionsView } from './views/SessionsView.tsx';
import { SettingsView } from './views/SettingsView.tsx';
import { StreamsView } from './views/StreamsView.tsx';

const VIEW_TITLES: Record<ViewName, string> = {
  overview: 'Overview',
  listener: 'Listener',
  registration: 'Registration',
  sessions: 'Sessions',
  streams: 'Streams',
  processes: 'Processes',
  logs: 'Logs',
  settings: 'Settings',
};

function CurrentView(props: { view: ViewName }): React.JSX.Element {
  switch (props.view) {
    case 'overview':
      return <OverviewView />;
    case 'listener':
      return <ListenerView />;
    case 'registration':
      return <RegistrationView />;
    case 'sessions':
      return <SessionsView />;
    case 'streams':
      return <StreamsView />;
    case 'processes':
      return <ProcessesView />;
    case 'logs':
      return <LogsView />;
    case 'settings':
      return <SettingsView />;
  }
}

function Nav(): React.JSX.Element {
  const view = useDesk((s) => s.view);
  // One selector per number: a selector returning a fresh object would re-render forever.
  const counts = {
    sessions: useDesk((s) => s.snapshot?.sessions.length ?? 0),
    processes: useDesk((s) => s.snapshot?.processes.filter((p) => p.state === 'running').length ?? 0),
    streams: useDesk((s) => s.snapshot?.streams.filter((x) => x.state !== 'closed').length ?? 0),
  };
  const { setView } = useActions();
  return (
    <nav aria-label="Views">
      <ul>
        {VIEW_NAMES.map((name) => {
          const count = name === 'sessions' ? counts.sessions : name === 'processes' ? counts.processes : name === 'streams' ? counts.streams : 0;
          return (
            <li key={name}>
              <button type="button" aria-current={view === name ? 'page' : undefined} onClick={() => setView(name)}>
                {VIEW_TITLES[name]}
                {count > 0 ? <span className="count" aria-label={`(${count})`}>{count}</span> : null}
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function Errors(): React.JSX.Element {
  const errors = useDesk((s) => s.errors);
  const { dismissError } = useActions();
  return (
    <div className="errors" role="alert" aria-live="assertive">
      {errors.map((e) => (
        <div key={e.id} className="error-item" data-testid="command-error">
          <span>
            <strong>{e.command}</strong> failed ({e.code}, {formatClock(e.atMs)}): {e.message}
          </span>
          <button type="button" onClick={() => dismissError(e.id)} aria-label={`Dismiss error ${e.id}`}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

export function App(): React.JSX.Element {
  const connection = useDesk((s) => s.connection);
  const connectionError = useDesk((s) => s.connectionError);
  const view = useDesk((s) => s.view);
  const { start } = useActions();
  return (
    <div className="app">
      <header className="top">
        <h1>exec-desk</h1>
        <span className={`conn conn-${connection}`} role="status" data-testid="connection">
          {connection === 'ready' ? 'Connected' : connection === 'connecting' ? 'Connecting…' : 'Not connected'}
        </span>
      </header>
      <Nav />
      <main>
        <Errors />
        {connection === 'error' ? (
          <section className="panel" aria-labelledby="conn-error-title">
            <h2 id="conn-error-title">Cannot reach the runtime</h2>
            <p className="error-text">{connectionError}</p>
            <button type="button" onClick={() => void start()}>
              Try again
            </button>
          </section>
        ) : connection === 'connecting' ? (
          <p className="empty">Loading…</p>
        ) : (
          <CurrentView view={view} />
        )}
      </main>
    </div>
  );
}
