/**
 * The data panel's edits: samples and targets row by row, rows pasted from a spreadsheet, a CSV
 * file imported, the shape of the table the graph asks for. Pure functions on ProjectData.
 */
import Papa from 'papaparse';
import { type CsvOptions, importCsv, isHeaderRow, type Project, type ProjectData, ProjectError, takesClasses } from '../../engine/protocol';
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

/** What the import form offers before reading the rows: the separator (guessed) and the first row's cells. */
export interface CsvPreview {
  delimiter: string;
  firstRow: string[];
  /** Guessed: the first row names the columns when none of its cells is a number. */
  header: boolean;
}

export function previewCsv(text: string): CsvPreview | { error: string } {
  const { data, meta } = Papa.parse<string[]>(text, { preview: 1, skipEmptyLines: true });
  const firstRow = data[0];
  if (!firstRow || firstRow.length === 0) return { error: 'The CSV file is empty.' };
  const header = isHeaderRow(firstRow);
  return { delimiter: meta.delimiter, firstRow, header };
}

/** Whether the project trains on class indices: its loss takes them as its target (CrossEntropyLoss, NLLLoss). */
function trainsOnClasses(project: Project): boolean {
  return project.nodes.some((n) => takesClasses(n, 'target'));
}

/**
 * A CSV file as the project's data, read by the engine's CSV import: its rows replace the table's,
 * text class labels become class indices and name the classes. Where the loss takes class
 * indices, a target column of whole numbers is read as class indices too. Refused whole, every
 * bad row named by its line, one sentence each.
 */
export function importCsvData(project: Project, text: string, options: CsvOptions): { data: ProjectData } | { problems: string[] } {
  let data: ProjectData;
  try {
    data = importCsv(text, options);
  } catch (e) {
    if (e instanceof ProjectError) return { problems: e.problems.map((p) => p.message) };
    throw e;
  }
  const targets = data.targets;
  if (!trainsOnClasses(project) || !targets || targets.length === 0 || !Array.isArray(targets[0]) || targets[0].length !== 1) return { data };
  const classes = (targets as number[][]).map(([t]) => t);
  const bad = classes.findIndex((t) => !Number.isInteger(t) || t < 0);
  if (bad >= 0) return { problems: [`Sample ${bad + 1} has the target ${classes[bad]}, but the loss takes class indices: whole numbers from 0, or text labels.`] };
  return { data: { ...data, targets: classes } };
}
