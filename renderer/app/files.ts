/**
 * Project files in and out. In a browser: a file picker or a drop to open, a download to save
 * or export. In the desktop app, main holds the file (native dialogs, atomic saves); the page
 * sends it text, or an ONNX model's bytes.
 */
import { EXPORT_EXTENSIONS, type ExportKind, projectBaseName } from '../../electron/api';
import { loadProject, type Problem, type Project, ProjectError, serializeProject } from '../../engine/protocol';

/** A file's text as a project, or every problem that stops it from being one. */
export function readProject(text: string): { project: Project } | { problems: readonly Problem[] } {
  try {
    return { project: loadProject(text) };
  } catch (e) {
    if (e instanceof ProjectError) return { problems: e.problems };
    return { problems: [{ message: `The file could not be read: ${(e as Error).message}` }] };
  }
}

/**
 * A project's text as saved, or one sentence saying why it cannot be (the writer validates, so
 * the app never writes a file it would refuse to open; the inputs' limits make this rare).
 */
export function projectText(project: Project): { text: string } | { error: string } {
  try {
    return { text: serializeProject(project) };
  } catch (e) {
    const issue = (e as { issues?: { message: string; path?: { key: unknown }[] }[] }).issues?.[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.');
    return { error: `The project cannot be saved: ${where ? `${where}: ` : ''}${issue?.message ?? (e as Error).message}.` };
  }
}

/** A name to save under: the file's own, else the title made safe for a file name. */
export function fileNameFor(project: Project, current: string | null): string {
  if (current) return current.split(/[\\/]/).at(-1) as string;
  const base = (project.title ?? 'network').trim().replace(/[^\w\- ]+/g, '').replace(/\s+/g, '-').toLowerCase();
  return `${base || 'network'}.bpstudio`;
}

/** An export's name in a browser: the project's file name (or title) with the export's ending. */
export function exportFileName(project: Project, current: string | null, kind: ExportKind): string {
  return `${projectBaseName(fileNameFor(project, current))}${EXPORT_EXTENSIONS[kind]}`;
}

/** The media type a browser is given for each export. */
export const EXPORT_TYPES: Record<ExportKind, string> = { weights: 'application/json', pytorch: 'text/x-python', onnx: 'application/octet-stream' };

/** Saves text or bytes by download (browser mode). */
export function download(content: string | Uint8Array<ArrayBuffer>, name: string, type = 'application/json'): void {
  const blob = new Blob([content], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
