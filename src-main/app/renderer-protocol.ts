/**
 * Maps `app://exec-desk/<path>` requests to files of the built renderer (out/renderer). Only
 * files inside that folder are served; anything else is a 404. Electron-free: main wraps it in
 * protocol.handle and adds the CSP header.
 */
import { extname, resolve, sep } from 'node:path';
import { APP_HOST, APP_SCHEME } from './window-policy.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface RendererAsset {
  path: string;
  contentType: string;
}

export function resolveRendererAsset(requestUrl: string, rendererRoot: string): RendererAsset | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const root = resolve(rendererRoot);
  const path = resolve(root, '.' + pathname);
  if (!path.startsWith(root + sep)) return null;
  const contentType = CONTENT_TYPES[extname(path).toLowerCase()];
  if (contentType === undefined) return null;
  return { path, contentType };
}
