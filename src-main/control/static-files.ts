/**
 * Serving the built renderer: path resolution confined to one directory (no traversal, no
 * dotfiles, no symlink escape), content types, and the page shown when nothing is built.
 */
import { realpathSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export type StaticLookup = { kind: 'file'; path: string; size: number } | { kind: 'not-built' } | { kind: 'not-found' };

/** Maps a request path (`/`, `/assets/x.js`) to a file under `root`. */
export function resolveStatic(root: string, urlPath: string): StaticLookup {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    statSync(join(realRoot, 'index.html'));
  } catch {
    return { kind: 'not-built' };
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'not-found' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'not-found' };
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const parts = relative.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.'))) return { kind: 'not-found' };
  const candidate = normalize(join(realRoot, relative));
  try {
    const real = realpathSync(candidate);
    if (!real.startsWith(realRoot + sep)) return { kind: 'not-found' };
    const stat = statSync(real);
    if (!stat.isFile()) return { kind: 'not-found' };
    return { kind: 'file', path: real, size: stat.size };
  } catch {
    return { kind: 'not-found' };
  }
}

/** Shown with 503 when the renderer has not been built (no inline script or style). */
export function notBuiltPage(root: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>exec-desk dashboard not built</title></head>',
    '<body><h1>The exec-desk dashboard is not built</h1>',
    `<p>No renderer build was found in <code>${escapeHtml(root)}</code>.</p>`,
    '<p>Build it with <code>npx electron-vite build</code> in the exec-desk checkout, then reload this page.',
    ' The executor itself keeps running; <code>exec-desk status --json</code> works without the dashboard.</p>',
    '</body></html>',
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
