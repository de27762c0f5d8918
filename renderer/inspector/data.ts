/**
 * The data panel's edits: samples and targets row by row, rows pasted from a spreadsheet, the
 * shape of the table the graph asks for. Pure functions on ProjectData.
 */
import type { Project, ProjectData } from '../../engine/protocol';
import { parseExpression } from './expression';
import { parseMatrix } from './matrix';

/** Values per sample: the Input node's features, else the width of the rows there are. */
export function featuresOf(project: Project): number {
  const input = project.nodes.find((n) => n.type === 'Input');
  if (input?.type === 'Input') return input.params.features;
  return project.data?.samples[0]?.length ?? 1;
}

/** Whether targets are class indices (a flat list) rather than rows of values; class indices unless the data says otherwise. */
export function targetsAreClasses(data: ProjectData | undefined): boolean {
  const first = data?.targets?.[0];
  return first === undefined || !Array.isArray(first);
}

export function hasTargets(project: Project): boolean {
  return project.nodes.some((n) => n.type === 'Target') || project.data?.targets !== undefined;
}

export function emptyData(): ProjectData {
  return { samples: [] };
}

/** Adds a row of zeros (and class 0, or a row of zero targets). */
export function addRow(project: Project): ProjectData {
  const data = project.data ?? emptyData();
  const samples = [...data.samples, new Array(featuresOf(project)).fill(0)];
  if (!hasTargets(project)) return { ...data, samples };
  const targets = data.targets ?? [];
  const width = Array.isArray(targets[0]) ? targets[0].length : 0;
  const target = width > 0 ? new Array(width).fill(0) : 0;
  return { ...data, samples, targets: [...targets, target] as ProjectData['targets'] };
}

export function deleteRow(data: ProjectData, row: number): ProjectData {
  const samples = data.samples.filter((_, i) => i !== row);
  const targets = data.targets?.filter((_, i) => i !== row) as ProjectData['targets'];
  return { ...data, samples, ...(targets ? { targets } : {}) };
}

export function setSample(data: ProjectData, row: number, col: number, value: number): ProjectData {
  return { ...data, samples: data.samples.map((r, i) => (i === row ? r.map((v, j) => (j === col ? value : v)) : r)) };
}

export function setTarget(data: ProjectData, row: number, col: number | null, value: number): ProjectData {
  const targets = (data.targets ?? []).map((t, i) => {
    if (i !== row) return t;
    return Array.isArray(t) && col !== null ? t.map((v, j) => (j === col ? value : v)) : value;
  }) as ProjectData['targets'];
  return { ...data, targets };
}

/**
 * Rows pasted from a spreadsheet (or a Python list): each row is a sample's values, then, where
 * the project has targets, the target (one class index, or a row of values as wide as the first).
 * Appended after the rows there are; refused whole, with the reason, when one does not fit.
 */
export function pasteRows(project: Project, text: string): { data: ProjectData; added: number } | { error: string } {
  const parsed = parseMatrix(text);
  if ('error' in parsed && !('values' in parsed)) return { error: parsed.error };
  if (parsed.error) return { error: `${parsed.error} Nothing was pasted.` };
  const features = featuresOf(project);
  const data = project.data ?? emptyData();
  const withTargets = hasTargets(project);
  const classes = targetsAreClasses(data);
  const targetWidth = classes ? 1 : (data.targets?.[0] as number[]).length;
  const width = features + (withTargets ? targetWidth : 0);
  const rows = parsed.values.map((r) => r.map((c) => (c as { value: number }).value));
  const bad = rows.findIndex((r) => r.length !== width);
  if (bad >= 0) {
    const what = withTargets ? `${features} sample values and ${classes ? 'a class index' : `${targetWidth} target values`}` : `${features} sample values`;
    return { error: `Pasted row ${bad + 1} has ${rows[bad].length} values, but a row here is ${what}. Nothing was pasted.` };
  }
  const samples = [...data.samples, ...rows.map((r) => r.slice(0, features))];
  if (!withTargets) return { data: { ...data, samples }, added: rows.length };
  const newTargets = rows.map((r) => (classes ? r[features] : r.slice(features)));
  const badClass = classes ? newTargets.findIndex((t) => !Number.isInteger(t) || (t as number) < 0) : -1;
  if (badClass >= 0) return { error: `Pasted row ${badClass + 1} has the class ${newTargets[badClass]}; a class is a whole number from 0. Nothing was pasted.` };
  const targets = [...(data.targets ?? []), ...newTargets] as ProjectData['targets'];
  return { data: { ...data, samples, targets }, added: rows.length };
}

/** A CSV file's rows appended as pasted rows; a first line of column names (not numbers) is skipped. */
export function importCsv(project: Project, text: string): { data: ProjectData; added: number } | { error: string } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(/[,;\t]/).some((cell) => 'error' in parseExpression(cell.replace(/^"|"$/g, '')));
  const rows = header ? lines.slice(1) : lines;
  if (rows.length === 0) return { error: 'The CSV file has no rows of numbers.' };
  return pasteRows(project, rows.join('\n'));
}
