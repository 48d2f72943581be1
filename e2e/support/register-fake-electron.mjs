// `node --import ./e2e/support/register-fake-electron.mjs out/main/index.js`: runs the built
// shell with the stand-in electron module (see fake-electron.mjs).
import { register } from 'node:module';

register(new URL('./electron-loader-hooks.mjs', import.meta.url));
