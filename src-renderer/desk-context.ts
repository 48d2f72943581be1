/** React bindings for the desk store: a context carrying it, selectors, and a ticking clock. */
import { createContext, useContext, useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { DeskActions, DeskState, DeskStore } from './store/desk-store.ts';

export const DeskContext = createContext<DeskStore | null>(null);

function useDeskStore(): DeskStore {
  const store = useContext(DeskContext);
  if (store === null) throw new Error('DeskContext is missing');
  return store;
}

export function useDesk<T>(selector: (state: DeskState) => T): T {
  return useStore(useDeskStore(), selector);
}

export function useActions(): DeskActions {
  return useDeskStore().actions;
}

/** The current time, re-rendering every `intervalMs` (for countdowns and ages). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
