/**
 * The window's security rules as plain functions (main.ts applies them): the page is served
 * from app://bundle/ out of the built renderer only, under a strict Content-Security-Policy;
 * IPC is answered only for that page's main frame; navigation goes nowhere else.
 */
import { extname, isAbsolute, relative, resolve } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://bundle`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/**
 * Only the app's own files run; no eval, no plugins, no remote anything. Inline styles are
 * allowed because Svelte transitions and the graph canvas set them; scripts never are.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** scheme://host: a non-special scheme's URL.origin is "null" in the WHATWG URL standard. */
const originOf = (url: URL): string => `${url.protocol}//${url.host}`;

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The file under `root` an app:// URL names; null for any other origin or a path leaving root. */
export function resolveAppFile(root: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (originOf(parsed) !== APP_ORIGIN) return null;
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
  const rel = relative(resolve(root), file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? null : file;
}

/** The only permissions the page gets: the clipboard, for copying and pasting nodes between windows. */
const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-read', 'clipboard-sanitized-write']);

/** Whether a permission is granted: the clipboard ones, to the app's own page; nothing to anyone else. */
export function grantsPermission(permission: string, requestingUrl: string): boolean {
  if (!GRANTED_PERMISSIONS.has(permission)) return false;
  try {
    return originOf(new URL(requestingUrl)) === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** Whether a message comes from the app's own page, in the main frame (not an iframe, not another origin). */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined): boolean {
  if (!frame || frame.parent) return false;
  try {
    return originOf(new URL(frame.url)) === APP_ORIGIN;
  } catch {
    return false;
  }
}
