/**
 * What main answers on IPC_INVOKE_CHANNEL. Electron turns an exception thrown in an
 * ipcMain.handle handler into an Error whose message is prefixed with the channel name and loses
 * any other property, so main replies with a tagged result instead and the bridge rejects with
 * the ControlErrorPayload itself.
 */
import type { ControlErrorPayload } from '../control/contract.ts';

export type IpcReply = { ok: true; result: unknown } | { ok: false; error: ControlErrorPayload };

export function isIpcReply(value: unknown): value is IpcReply {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.ok === true) return 'result' in v;
  if (v.ok === false) {
    const e = v.error as Record<string, unknown> | null | undefined;
    return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
  }
  return false;
}
