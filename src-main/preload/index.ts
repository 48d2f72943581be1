/**
 * The preload of the exec-desk window (sandboxed, context-isolated): exposes the control API as
 * `window.execDesk` and nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createControlBridge } from './bridge.ts';

// contextBridge copies the (frozen) object: only its two functions cross into the page.
contextBridge.exposeInMainWorld('execDesk', createControlBridge(ipcRenderer));
