/**
 * The renderer's one store: the runtime snapshot (kept current by applying events), the state of
 * the control connection, the errors of rejected commands, which commands are in flight, and
 * which view is shown. Fed by any ControlApi (the preload bridge or the dashboard websocket).
 *
 * Nothing secret is ever put here: snapshots carry no secrets by contract, and the settings
 * form keeps a typed API key in its own component state until it is sent.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  ControlApi,
  ControlCommandName,
  ControlErrorPayload,
  ControlParams,
  ControlResult,
  RuntimeEvent,
  RuntimeSnapshot,
} from '../../src-main/control/contract.ts';
import { applyEvent } from './reducer.ts';

export const VIEW_NAMES = ['overview', 'listener', 'registration', 'sessions', 'streams', 'processes', 'logs', 'settings'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export type ConnectionStatus = 'connecting' | 'ready' | 'error';

export interface CommandError {
  id: number;
  command: ControlCommandName;
  code: ControlErrorPayload['code'] | 'transport';
  message: string;
  atMs: number;
}

export interface DeskState {
  snapshot: RuntimeSnapshot | null;
  connection: ConnectionStatus;
  connectionError: string | null;
  /** Most recent first; bounded. */
  errors: CommandError[];
  /** Keys of commands in flight (see `commandKey`), so buttons can show progress and not double-fire. */
  pending: Record<string, true>;
  view: ViewName;
}

/** A carrier as the store uses it: the ControlApi, and (websocket) a way to learn it closed. */
export type ConnectedClient = ControlApi & { onClose?(listener: () => void): () => void };

/** Opens a carrier: the preload bridge at once, or a new control websocket. */
export type ClientSource = () => Promise<ConnectedClient>;

export interface DeskActions {
  /**
   * Connects (again), subscribes, then fetches a snapshot; events that arrive before the
   * snapshot are older than it and dropped.
   */
  start(): Promise<void>;
  /** Runs a command; resolves with its result, or null when it was rejected (the error is stored). */
  run<K extends ControlCommandName>(command: K, params: ControlParams<K>, key?: string): Promise<ControlResult<K> | null>;
  dismissError(id: number): void;
  setView(view: ViewName): void;
  stop(): void;
}

export type DeskStore = StoreApi<DeskState> & { actions: DeskActions };

export const MAX_ERRORS = 20;

/** A stable key for a command on one target, e.g. `terminateProcess:s1/p1`. */
export function commandKey(command: ControlCommandName, target?: string): string {
  return target === undefined ? command : `${command}:${target}`;
}

/** Turns whatever a carrier rejected with into a ControlErrorPayload-like record. */
export function toCommandFailure(err: unknown): Pick<CommandError, 'code' | 'message'> {
  const codes: ReadonlyArray<ControlErrorPayload['code']> = ['unknown_command', 'invalid_params', 'not_found', 'unavailable', 'failed'];
  if (err !== null && typeof err === 'object') {
    const o = err as { code?: unknown; message?: unknown };
    const message = typeof o.message === 'string' && o.message !== '' ? o.message : String(err);
    if (typeof o.code === 'string' && (codes as readonly string[]).includes(o.code)) {
      return { code: o.code as ControlErrorPayload['code'], message };
    }
    return { code: 'transport', message };
  }
  return { code: 'transport', message: String(err) };
}

export function createDeskStore(source: ClientSource, now: () => number = Date.now): DeskStore {
  const store = createStore<DeskState>(() => ({
    snapshot: null,
    connection: 'connecting',
    connectionError: null,
    errors: [],
    pending: {},
    view: 'overview',
  }));
  let nextErrorId = 1;
  let client: ConnectedClient | null = null;
  let unsubscribe: (() => void) | null = null;
  let unwatchClose: (() => void) | null = null;
  /** Bumped by every start(); a slower, older start must not overwrite a newer one. */
  let generation = 0;

  const onEvent = (event: RuntimeEvent) => {
    const { snapshot } = store.getState();
    if (snapshot === null) return;
    const next = applyEvent(snapshot, event);
    if (next !== snapshot) store.setState({ snapshot: next });
  };

  const recordError = (command: ControlCommandName, err: unknown) => {
    const failure = toCommandFailure(err);
    const entry: CommandError = { id: nextErrorId++, command, ...failure, atMs: now() };
    store.setState((s) => ({ errors: [entry, ...s.errors].slice(0, MAX_ERRORS) }));
  };

  const actions: DeskActions = {
    async start() {
      const mine = ++generation;
      actions.stop();
      store.setState({ connection: 'connecting', connectionError: null });
      const fail = (err: unknown) => {
        if (mine === generation) store.setState({ connection: 'error', connectionError: toCommandFailure(err).message });
      };
      let next: ConnectedClient;
      try {
        next = await source();
      } catch (err) {
        fail(err);
        return;
      }
      if (mine !== generation) return;
      client = next;
      // Subscribe first so nothing after the snapshot is missed; drop what comes before it.
      store.setState({ snapshot: null });
      unsubscribe = next.subscribe(onEvent);
      unwatchClose = next.onClose?.(() => fail(new Error('The control connection closed. Is the runtime still running?'))) ?? null;
      try {
        const snapshot = await next.invoke('getSnapshot', undefined);
        if (mine === generation) store.setState({ snapshot, connection: 'ready', connectionError: null });
      } catch (err) {
        fail(err);
      }
    },
    async run(command, params, key = commandKey(command)) {
      if (store.getState().pending[key]) return null;
      if (client === null) {
        recordError(command, { code: 'unavailable', message: 'not connected to the runtime' });
        return null;
      }
      const target = client;
      store.setState((s) => ({ pending: { ...s.pending, [key]: true } }));
      try {
        return await target.invoke(command, params);
      } catch (err) {
        recordError(command, err);
        return null;
      } finally {
        store.setState((s) => {
          const pending = { ...s.pending };
          delete pending[key];
          return { pending };
        });
      }
    },
    dismissError(id) {
      store.setState((s) => ({ errors: s.errors.filter((e) => e.id !== id) }));
    },
    setView(view) {
      store.setState({ view });
    },
    stop() {
      unsubscribe?.();
      unsubscribe = null;
      unwatchClose?.();
      unwatchClose = null;
      client = null;
    },
  };
  return Object.assign(store, { actions });
}
