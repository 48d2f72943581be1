/** What the renderer finds on `window` (and what the browser tests read from it). */
import type { ControlApi } from '../src-main/control/contract.ts';
import type { DeskState } from './store/desk-store.ts';

declare global {
  interface Window {
    /** Put there by the Electron preload; absent in a browser. */
    execDesk?: ControlApi;
    /** Read-only view of the store for end-to-end tests (holds nothing the UI does not show). */
    __execDeskState?: () => DeskState;
  }
}

export {};
