#!/usr/bin/env node
// The headless exec-desk CLI. Runs the TypeScript sources through tsx's loader, so a checkout
// needs no build step (the Electron app bundles the same modules with electron-vite).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
