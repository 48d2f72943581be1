/**
 * The object the preload exposes as `window.execDesk`: exactly the ControlApi of contract.ts,
 * built over an ipcRenderer-like carrier. Electron-free so it is tested under Node.
 *
 * Only names in CONTROL_COMMAND_NAMES are sent (anything else is refused here, before IPC), and
 * the listener passed to subscribe only ever receives the event payload, never Electron's
 * IpcRendererEvent (which would hand the page a `sender` object).
 */
import {
  CONTROL_COMMAND_NAMES,
  IPC_EVENT_CHANNEL,
  IPC_INVOKE_CHANNEL,
  type ControlApi,
  type ControlCommandName,
  type ControlErrorPayload,
  type RuntimeEvent,
} from '../control/contract.ts';
import { isIpcReply } from './ipc-reply.ts';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

const COMMANDS: ReadonlySet<string> = new Set(CONTROL_COMMAND_NAMES);

function refusal(code: ControlErrorPayload['code'], message: string): ControlErrorPayload {
  return { code, message };
}

export function createControlBridge(ipc: IpcRendererLike): ControlApi {
  const api: ControlApi = {
    async invoke(command, params) {
      if (typeof command !== 'string' || !COMMANDS.has(command)) {
        throw refusal('unknown_command', `unknown command: ${String(command)}`);
      }
      const reply = await ipc.invoke(IPC_INVOKE_CHANNEL, command as ControlCommandName, params);
      if (!isIpcReply(reply)) throw refusal('failed', 'malformed reply from the main process');
      if (!reply.ok) throw refusal(reply.error.code, reply.error.message);
      return reply.result as never;
    },
    subscribe(listener) {
      if (typeof listener !== 'function') throw new TypeError('subscribe needs a function');
      const forward = (_event: unknown, payload: unknown) => listener(payload as RuntimeEvent);
      ipc.on(IPC_EVENT_CHANNEL, forward);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipc.removeListener(IPC_EVENT_CHANNEL, forward);
      };
    },
  };
  return Object.freeze(api);
}
