/** Where the end-to-end tests find the project and put their screenshots. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const rendererIndex = join(projectRoot, 'out/renderer/index.html');
/** Screenshots of every view (gitignored); the README names this folder. */
export const screenshotDir = join(projectRoot, 'e2e/screenshots');
