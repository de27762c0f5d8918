/** The window title: the file's name (or "Untitled"), an unsaved mark, and the app's name. */
import { basename } from 'node:path';

export const APP_NAME = 'Backprop Studio';

export function windowTitle(path: string | null, dirty: boolean): string {
  return `${dirty ? '• ' : ''}${path ? basename(path) : 'Untitled'} — ${APP_NAME}`;
}
