/**
 * The main-process side of IPC_INVOKE_CHANNEL, electron-free: checks that the call comes from
 * the app's own renderer (the sender frame's URL is on the app origin, and it is a top-level
 * frame), then runs the command through the runtime and answers with an IpcReply. The runtime
 * validates the command name and params itself; unknown names are refused here first too.
 */
import { CONTROL_COMMAND_NAMES } from '../control/contract.ts';
import { ControlError } from '../control/control-error.ts';
import type { IpcReply } from '../preload/ipc-reply.ts';
import { isAppUrl } from './window-policy.ts';

export interface InvokeSender {
  /** `event.senderFrame.url`; null when the frame is gone (navigated away or destroyed). */
  frameUrl: string | null;
  /** `event.senderFrame === event.sender.mainFrame`: sub-frames never get the bridge's power. */
  isMainFrame: boolean;
}

export type Dispatch = (command: string, params: unknown) => Promise<unknown>;

const COMMANDS: ReadonlySet<string> = new Set(CONTROL_COMMAND_NAMES);

export function isTrustedSender(sender: InvokeSender): boolean {
  return sender.isMainFrame && sender.frameUrl !== null && isAppUrl(sender.frameUrl);
}

export function createInvokeHandler(dispatch: Dispatch): (sender: InvokeSender, command: unknown, params: unknown) => Promise<IpcReply> {
  return async (sender, command, params) => {
    if (!isTrustedSender(sender)) {
      return { ok: false, error: { code: 'unavailable', message: 'refused: the control API only answers the exec-desk window' } };
    }
    if (typeof command !== 'string' || !COMMANDS.has(command)) {
      return { ok: false, error: { code: 'unknown_command', message: `unknown command ${JSON.stringify(String(command).slice(0, 64))}` } };
    }
    try {
      return { ok: true, result: await dispatch(command, params) };
    } catch (err) {
      return { ok: false, error: ControlError.payloadOf(err) };
    }
  };
}
