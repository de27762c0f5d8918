/**
 * CSV import: a table's rows as a project's data (samples, targets, class names). The columns
 * are chosen by header name or index; text class labels become class indices. Nothing is
 * half-imported: every bad row is reported by its line in the file, one sentence each.
 * No Node APIs here: the app's renderer may use this module too.
 */
import Papa from 'papaparse';
import { type Problem, ProjectError } from '../project/problems';
import { LIMITS, type ProjectData } from '../project/schema';

/** A column: its header name, or its index from 0. */
export type Column = string | number;

export interface CsvOptions {
  /** Whether the first row names the columns (default true). */
  header?: boolean;
  /** The separator between values (default ","). */
  delimiter?: string;
  /** The input columns; default: every column that is not a target. */
  inputs?: Column[];
  /** The target columns; default: the last column; [] for none. */
  targets?: Column[];
  /**
   * Whether the target is a class label (one column, text allowed) mapped to a class index;
   * default: when the first row's target is not a number.
   */
  classes?: boolean;
  /** The class names in index order; default: the labels in the order they first appear. */
  classNames?: string[];
}

/** More bad rows than this are summed up in one last sentence. */
const SHOWN = 20;

interface Row {
  line: number;
  cells: string[];
}

/** The cell as a finite number, or null (empty cells and text are not numbers). */
function numberOf(cell: string): number | null {
  const t = cell.trim();
  if (t === '') return null;
  const x = Number(t);
  return Number.isFinite(x) ? x : null;
}

/** Whether a first row looks like column names: none of its cells is a number. */
export function isHeaderRow(cells: readonly string[]): boolean {
  return cells.every((cell) => numberOf(cell) === null);
}

/** Splits the text into rows, each with the line it starts on; quoting problems become problems. */
function parseRows(text: string, delimiter: string, problems: Problem[]): Row[] {
  const rows: Row[] = [];
  let line = 1;
  let start = 0;
  Papa.parse<string[]>(text, {
    delimiter,
    step: (result) => {
      const [error] = result.errors;
      if (error) problems.push({ message: `Line ${line} has a problem: ${error.message.toLowerCase()}.` });
      // A blank line is no row, but still a line.
      else if (!(result.data.length === 1 && result.data[0].trim() === '')) rows.push({ line, cells: result.data });
      const end = result.meta.cursor;
      for (let i = start; i < end; i++) if (text.charCodeAt(i) === 10) line++;
      start = end;
    },
  });
  return rows;
}

/**
 * Reads CSV text into a project's data. Throws a ProjectError listing every problem: unknown
 * columns, rows of the wrong length, cells that are not numbers, unknown class labels.
 */
export function importCsv(text: string, options: CsvOptions = {}): ProjectData {
  if (text.length > LIMITS.fileBytes) {
    throw new ProjectError([{ message: `The CSV is larger than ${LIMITS.fileBytes / (1024 * 1024)} MiB, the limit for a project's data.` }]);
  }
  const problems: Problem[] = [];
  const { header = true, delimiter = ',' } = options;
  const rows = parseRows(text, delimiter, problems);
  if (problems.length > 0) throw new ProjectError(problems);
  const names = header ? rows.shift()?.cells.map((c) => c.trim()) : undefined;
  const width = names?.length ?? rows[0]?.cells.length ?? 0;
  if (rows.length === 0) throw new ProjectError([{ message: header ? 'The CSV has no rows of data below its header.' : 'The CSV has no rows.' }]);
  if (rows.length > LIMITS.rows) throw new ProjectError([{ message: `The CSV has ${rows.length} rows; a project holds at most ${LIMITS.rows}.` }]);

  const columnName = (i: number): string => (names ? `"${names[i]}"` : `${i}`);
  const resolve = (column: Column): number | null => {
    const i = typeof column === 'number' ? column : names?.indexOf(column) ?? -1;
    if (Number.isInteger(i) && i >= 0 && i < width) return i;
    const has = names ? `its columns are ${names.map((n) => `"${n}"`).join(', ')}` : `its columns are 0 to ${width - 1}`;
    problems.push({ message: `The CSV has no column ${typeof column === 'number' ? column : `"${column}"`}; ${has}.` });
    return null;
  };
  const targets = (options.targets ?? [width - 1]).map(resolve);
  const inputs = options.inputs ? options.inputs.map(resolve) : Array.from({ length: width }, (_, i) => i).filter((i) => !targets.includes(i));
  for (const i of inputs) if (i !== null && targets.includes(i)) problems.push({ message: `Column ${columnName(i)} is chosen both as an input and as a target.` });
  if (inputs.length === 0) problems.push({ message: 'No input columns are chosen.' });
  if (inputs.length > LIMITS.features) problems.push({ message: `${inputs.length} input columns are chosen; a sample may have at most ${LIMITS.features} values.` });
  const classes = options.classes ?? (targets.length === 1 && targets[0] !== null && numberOf(rows[0].cells[targets[0]] ?? '') === null);
  if (classes && targets.length !== 1) problems.push({ message: `Class labels come from one target column, but ${targets.length} are chosen.` });
  if (problems.length > 0) throw new ProjectError(problems);

  const inputColumns = inputs as number[];
  const targetColumns = targets as number[];
  const classNames = [...(options.classNames ?? [])];
  const fixedClasses = options.classNames !== undefined;
  const samples: number[][] = [];
  const values: number[][] = [];
  const labels: number[] = [];
  const bad: string[] = [];
  for (const { line, cells } of rows) {
    if (cells.length !== width) {
      bad.push(`Line ${line} has ${cells.length} values, but ${names ? 'the header has' : 'the first row has'} ${width}.`);
      continue;
    }
    const notNumber = (i: number): string => `Line ${line}: column ${columnName(i)} is ${cells[i].trim() === '' ? 'empty' : `"${cells[i]}"`}, not a number.`;
    const sample = inputColumns.map((i) => numberOf(cells[i]));
    const badInput = inputColumns.find((_, k) => sample[k] === null);
    if (badInput !== undefined) {
      bad.push(notNumber(badInput));
      continue;
    }
    if (classes) {
      const label = cells[targetColumns[0]].trim();
      let index = classNames.indexOf(label);
      if (index < 0 && (fixedClasses || label === '')) {
        bad.push(label === ''
          ? `Line ${line}: column ${columnName(targetColumns[0])} has no class label.`
          : `Line ${line}: the class "${label}" is not one of ${classNames.map((n) => `"${n}"`).join(', ')}.`);
        continue;
      }
      if (index < 0) index = classNames.push(label) - 1;
      labels.push(index);
    } else {
      const target = targetColumns.map((i) => numberOf(cells[i]));
      const badTarget = targetColumns.find((_, k) => target[k] === null);
      if (badTarget !== undefined) {
        bad.push(notNumber(badTarget));
        continue;
      }
      values.push(target as number[]);
    }
    samples.push(sample as number[]);
  }
  if (bad.length > 0) {
    const more = bad.length - SHOWN;
    throw new ProjectError([...bad.slice(0, SHOWN), ...(more > 0 ? [`${more} more lines have problems.`] : [])].map((message) => ({ message })));
  }
  if (targetColumns.length === 0) return { samples };
  return classes ? { samples, targets: labels, class_names: classNames } : { samples, targets: values };
}
