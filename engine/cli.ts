/**
 * The `backprop` command (bin/backprop.js runs it): check, train, export and import-weights on
 * project files. Exit codes: 0 done, 1 a problem with the input (one sentence per problem on
 * stderr, naming the file), 2 an internal error.
 */
import { parseArgs } from 'node:util';
import { readTextFile, saveAtomically } from './io/file';
import { exportOnnx } from './io/onnx';
import { exportPytorch } from './io/pytorch';
import { exportWeights, loadWeights, parseWeights } from './io/weights';
import { compile } from './project/compile';
import { serializeProject, withHistory, withModelValues } from './project/document';
import { formatFloat32, formatNested } from './project/json';
import { loadProject } from './project/load';
import { ProjectError } from './project/problems';
import type { EpochRecord, Project } from './project/schema';
import * as torch from './index';
import { type Backend, openTraining, type Training } from './project/train';

const USAGE = `Usage: backprop <command> [options]

Commands:
  check FILE                   report every problem of a project (exit 1 if there is any)
  train FILE [--epochs N] [--backend cpu|webgpu|auto] [--out FILE] [--jsonl]
                               train; --jsonl prints one JSON object per epoch,
                               --out saves the trained project; WEBGPU_BACKEND
                               picks Dawn's backend (e.g. opengles)
  export FILE --format weights|pytorch|project|onnx [--out PATH]
                               write the weights (PyTorch state_dict naming), a
                               PyTorch script that trains the network as the app
                               does, the project, or the network with its weights
                               as an ONNX model; to stdout without --out (ONNX,
                               being binary, needs --out)
  import-weights FILE WEIGHTS.json --out FILE
                               load weights JSON into a project and save it

Exit codes: 0 done, 1 a problem with the input (said on stderr), 2 an internal error.
`;

/** A mistake in how the command was called. */
class UsageError extends ProjectError {
  constructor(message: string) {
    super([{ message: `${message} (see backprop --help).` }]);
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal, for the progress line. */
  interactive: boolean;
}

const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

/** Runs `fn`; a ProjectError from it is said again with `file` in front of each problem. */
async function about<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ProjectError)) throw e;
    throw new ProjectError(e.problems.map((p) => ({ ...p, message: `${file}: ${p.message}` })));
  }
}

async function readProject(file: string): Promise<Project> {
  const text = await readTextFile(file);
  return about(file, () => loadProject(text));
}

async function write(io: Io, content: string | Uint8Array, out: string | undefined): Promise<void> {
  if (out !== undefined) await saveAtomically(out, content);
  else if (typeof content === 'string') io.out(content);
  else throw new UsageError('An ONNX model is binary, so it is not written to the terminal: give --out PATH');
}

function epochsOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 1_000_000) throw new UsageError(`--epochs must be a whole number from 0 to 1000000, not "${value}"`);
  return n;
}

function backendOption(value: string | undefined): Backend | undefined {
  if (value === undefined || value === 'cpu' || value === 'webgpu' || value === 'auto') return value;
  throw new UsageError(`--backend must be cpu, webgpu or auto, not "${value}"`);
}

/** One epoch as a JSON line, numbers as Python's json.dumps writes float32 values. */
function jsonLine(record: EpochRecord): string {
  return `{"epoch": ${record.epoch}, "loss": ${formatFloat32(record.loss)}, "outputs": ${formatNested(record.outputs, formatFloat32)}}\n`;
}

async function train(io: Io, file: string, flags: Flags): Promise<void> {
  const options = { epochs: epochsOption(flags.epochs), backend: backendOption(flags.backend) };
  const project = await readProject(file);
  // Dawn's own choice of backend unless WEBGPU_BACKEND names one (opengles for Mesa's llvmpipe).
  const init = { backend: process.env.WEBGPU_BACKEND, on_fallback: (message: string) => io.err(`${message}\n`) };
  const { training, notice } = await about(file, () => openTraining(project, options, init));
  if (notice) io.err(`${notice}\n`);
  try {
    await trainOn(io, file, flags, project, training);
  } finally {
    if (torch.webgpu.is_available()) await torch.webgpu.release();
  }
}

async function trainOn(io: Io, file: string, flags: Flags, project: Project, training: Training): Promise<void> {
  const records: EpochRecord[] = [];
  await about(file, async () => {
    for await (const record of training.records()) {
      records.push(record);
      if (flags.jsonl) io.out(jsonLine(record));
      else if (io.interactive) io.err(`\repoch ${record.epoch}/${training.epochs}  loss ${record.loss.toPrecision(5)}`);
    }
  });
  if (!flags.jsonl) {
    if (io.interactive && records.length > 0) io.err('\n');
    const first = records[0];
    const last = records.at(-1);
    io.out(first && last
      ? `Trained ${records.length} ${records.length === 1 ? 'epoch' : 'epochs'}: loss ${first.loss.toPrecision(5)} after epoch 1, ${last.loss.toPrecision(5)} after epoch ${last.epoch}.\n`
      : 'Trained 0 epochs.\n');
  }
  if (flags.out !== undefined) {
    if (training.device.backend === 'webgpu') await torch.webgpu.fetch(training.graph.module);
    const trained = await about(file, () => withHistory(withModelValues(project, training.graph), records));
    await saveAtomically(flags.out, serializeProject(trained));
    if (!flags.jsonl) io.out(`Saved the trained project to ${flags.out}.\n`);
  }
}

interface Flags {
  epochs?: string;
  backend?: string;
  out?: string;
  format?: string;
  jsonl?: boolean;
  help?: boolean;
}

function needs(positionals: string[], count: number, what: string): void {
  if (positionals.length !== count) throw new UsageError(`${what} takes ${count === 1 ? 'one file' : `${count} files`}, not ${positionals.length}`);
}

async function run(args: string[], io: Io): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        epochs: { type: 'string' },
        backend: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string' },
        jsonl: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\.$/, ''));
  }
  const flags: Flags = parsed.values;
  const [command, ...files] = parsed.positionals;
  if (flags.help || command === 'help') {
    io.out(USAGE);
    return;
  }
  switch (command) {
    case 'check': {
      needs(files, 1, 'check');
      const project = await readProject(files[0]);
      await about(files[0], () => compile(project));
      io.out(`${files[0]}: no problems.\n`);
      return;
    }
    case 'train':
      needs(files, 1, 'train');
      return train(io, files[0], flags);
    case 'export': {
      needs(files, 1, 'export');
      const format = flags.format;
      if (format !== 'weights' && format !== 'pytorch' && format !== 'project' && format !== 'onnx') {
        throw new UsageError(`export needs --format weights, pytorch, project or onnx${format === undefined ? '' : `, not "${format}"`}`);
      }
      const project = await readProject(files[0]);
      const content = format === 'project'
        ? serializeProject(project)
        : await about(files[0], () => {
          const graph = compile(project);
          if (format === 'onnx') return exportOnnx(project, graph);
          return format === 'weights' ? exportWeights(graph.module) : exportPytorch(project, graph);
        });
      return write(io, content, flags.out);
    }
    case 'import-weights': {
      needs(files, 2, 'import-weights');
      if (flags.out === undefined) throw new UsageError('import-weights needs --out FILE for the project it writes');
      const [file, weightsFile] = files;
      const project = await readProject(file);
      const graph = await about(file, () => compile(project));
      const weightsText = await readTextFile(weightsFile);
      await about(weightsFile, () => loadWeights(graph.module, parseWeights(weightsText)));
      return saveAtomically(flags.out, serializeProject(await about(file, () => withModelValues(project, graph))));
    }
    case undefined:
      throw new UsageError('A command is needed');
    default:
      throw new UsageError(`"${command}" is not a command`);
  }
}

/** Runs the command line; returns the exit code. */
export async function main(args: string[], io: Io = processIo): Promise<number> {
  try {
    await run(args, io);
    return 0;
  } catch (e) {
    if (e instanceof ProjectError) {
      for (const p of e.problems) io.err(`${p.message}\n`);
      return 1;
    }
    io.err(`backprop: internal error: ${(e as Error)?.message ?? String(e)}. Please report this.\n`);
    return 2;
  }
}
