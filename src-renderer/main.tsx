/** The renderer's entry: pick the carrier, create the store, render, connect. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { pickClientSource } from './control/pick-client.ts';
import { DeskContext } from './desk-context.ts';
import { createDeskStore } from './store/desk-store.ts';
import './styles.css';

const { source } = pickClientSource({ execDesk: window.execDesk, location: window.location, WebSocket: window.WebSocket });
const store = createDeskStore(source);
window.__execDeskState = () => store.getState();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DeskContext value={store}>
      <App />
    </DeskContext>
  </StrictMode>,
);
void store.actions.start();
// A dashboard opened without its token connects once the #token=… fragment is pasted in.
window.addEventListener('hashchange', () => {
  if (store.getState().connection === 'error') void store.actions.start();
});
