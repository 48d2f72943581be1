/**
 * The preload of the exec-desk window (sandboxed, context-isolated): exposes the control API as
 * `window.execDesk` and nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createControlBridge } from './bridge.ts';

const bridge = createControlBridge(ipcRenderer);
// contextBridge copies the object; only these two functions cross into the page.
contextBridge.exposeInMainWorld('execDesk', { invoke: bridge.invoke, subscribe: bridge.subscribe });
