/**
 * The `backprop` command. A few tests run the real launcher (bin/backprop.js, and `npx backprop`)
 * in a child process; the others call main() in this process with captured output, which is the
 * same code without the start-up time.
 */
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../engine/cli';
import { exportOnnx } from '../../engine/io/onnx';
import { compile } from '../../engine/project/compile';
import { loadProject } from '../../engine/project/load';
import { expectClose, type FTensor, loadFixture, TOL } from '../engine/fixture';
import { EXAMPLE_FILES, exampleDoc, exampleText } from '../engine/project/helpers';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const example = (file: string) => join(ROOT, 'assets/examples', file);
const run = promisify(execFile);

interface Result { code: number; stdout: string; stderr: string }

/** Runs bin/backprop.js (or another command) in a child process. */
async function spawn(args: string[], command = process.execPath, prefix = [join(ROOT, 'bin/backprop.js')], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(command, [...prefix, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** Runs main() here, capturing what it writes. */
async function cli(...args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), interactive: false });
  return { code, stdout, stderr };
}

interface SeedFixture {
  init: Record<string, FTensor>;
  new_adam_every_iteration: { rows: { t: number; loss: number; probs: number[] }[] };
  autograd_demo: { z: number };
}
const seed = loadFixture<SeedFixture>('seed.json');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'backprop-cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('backprop (the launcher)', () => {
  it('prints its help through npx', async () => {
    const result = await spawn(['--help'], 'npx', ['--no-install', 'backprop']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: backprop <command> \[options\]/);
    for (const command of ['check FILE', 'train FILE', 'export FILE', 'import-weights FILE']) expect(result.stdout).toContain(command);
    expect(result.stdout).toContain('export FILE --format weights|pytorch|project|onnx [--out PATH]');
  }, 60_000);

  it('trains the seed tutorial as PyTorch does, one JSON line per epoch', async () => {
    const result = await spawn(['train', example('seed-tutorial.json'), '--jsonl']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    const rows = seed.new_adam_every_iteration.rows;
    expect(lines).toHaveLength(rows.length);
    for (const [i, line] of lines.entries()) {
      expect(line).toMatch(/^\{"epoch": \d+, "loss": [-\d.e]+, "outputs": \[\[[-\d.e, ]+\]\]\}$/);
      const record = JSON.parse(line) as { epoch: number; loss: number; outputs: number[][] };
      expect(record.epoch).toBe(rows[i].t);
      expectClose(record.loss, rows[i].loss, TOL.train32, `epoch ${rows[i].t} loss`);
      expectClose(record.outputs, rows[i].probs, TOL.train32, `epoch ${rows[i].t} outputs`);
    }
  }, 60_000);

  it('trains on WebGPU with --backend webgpu, as on the CPU', async (test) => {
    const args = ['train', example('seed-tutorial.json'), '--jsonl'];
    const gpu = await spawn([...args, '--backend', 'webgpu'], undefined, undefined, { WEBGPU_BACKEND: 'opengles' });
    expect(gpu.code).toBe(0);
    const unavailable = /^WebGPU is not available.*$/m.exec(gpu.stderr);
    if (unavailable && !process.env.CI) return test.skip(unavailable[0]);
    expect(unavailable).toBeNull();
    const records = (r: Result) => r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { epoch: number; loss: number; outputs: number[][] });
    const cpu = records(await spawn([...args, '--backend', 'cpu']));
    const got = records(gpu);
    expect(got.map((r) => r.epoch)).toEqual(cpu.map((r) => r.epoch));
    got.forEach((r, i) => expectClose([r.loss, ...r.outputs.flat()], [cpu[i].loss, ...cpu[i].outputs.flat()], { rel: 0, abs: 1e-5 }, `epoch ${r.epoch}`));
  }, 60_000);

  it('exits 1 with one sentence per problem on stderr, naming the file, and no stack trace', async () => {
    const doc = exampleDoc('seed-tutorial.json');
    doc.nodes[3].params.in_features = 4;
    doc.edges.pop();
    const file = join(dir, 'broken.json');
    await fs.writeFile(file, JSON.stringify(doc));
    const result = await spawn(['check', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `${file}: Linear 'hidden2' has a tensors.weight of shape [3, 3], but its sizes need [3, 4].`,
      `${file}: CrossEntropyLoss 'loss' has no target: connect a Target (or the values to compare with) to its port 'target'.`,
      `${file}: Linear 'hidden2' takes 4 inputs, but 'relu' gives 3.`,
    ]);
  }, 60_000);
});

describe('backprop check', () => {
  it.each(EXAMPLE_FILES)('passes the example %s', async (file) => {
    expect(await cli('check', example(file))).toEqual({ code: 0, stdout: `${example(file)}: no problems.\n`, stderr: '' });
  });

  it('says what is wrong with a file that is not a project', async () => {
    const file = join(dir, 'text.json');
    await fs.writeFile(file, '{"a": [1, 2,]}');
    expect(await cli('check', file)).toEqual({ code: 1, stdout: '', stderr: `${file}: The file is not valid JSON: line 1, column 13: a comma must not come right before ']'.\n` });
    expect(await cli('check', join(dir, 'missing.json'))).toEqual({
      code: 1, stdout: '', stderr: `Cannot read ${join(dir, 'missing.json')}: the file or its folder does not exist.\n`,
    });
  });
});

describe('backprop train', () => {
  it('gives the autograd demo\'s z as the loss', async () => {
    const { code, stdout } = await cli('train', example('autograd-demo.json'), '--jsonl');
    expect(code).toBe(0);
    expectClose((JSON.parse(stdout) as { loss: number }).loss, seed.autograd_demo.z, TOL.f32, 'z');
  });

  it('runs the epochs asked for, and prints a summary without --jsonl', async () => {
    const { code, stdout } = await cli('train', example('seed-tutorial.json'), '--epochs', '2');
    expect(code).toBe(0);
    const [first, second] = seed.new_adam_every_iteration.rows;
    expect(stdout).toBe(`Trained 2 epochs: loss ${first.loss.toPrecision(5)} after epoch 1, ${second.loss.toPrecision(5)} after epoch 2.\n`);
  });

  it('saves the trained project with --out, keeping the previous one as .bak', async () => {
    const out = join(dir, 'trained.json');
    await fs.writeFile(out, 'previous');
    const { code, stdout } = await cli('train', example('seed-tutorial.json'), '--out', out);
    expect(code).toBe(0);
    expect(stdout).toContain(`Saved the trained project to ${out}.`);
    expect(readFileSync(`${out}.bak`, 'utf8')).toBe('previous');
    const trained = loadProject(readFileSync(out, 'utf8'));
    const rows = seed.new_adam_every_iteration.rows;
    expect(trained.history).toHaveLength(rows.length);
    expectClose(trained.history?.map((r) => r.loss) ?? [], rows.map((r) => r.loss), TOL.train32, 'history');
    expect(trained.nodes[1]).toMatchObject({ id: 'hidden', type: 'Linear' });
  });

  it('refuses bad options with a usage message', async () => {
    const seedFile = example('seed-tutorial.json');
    expect(await cli('train', seedFile, '--epochs', 'ten')).toMatchObject({ code: 1, stderr: '--epochs must be a whole number from 0 to 1000000, not "ten" (see backprop --help).\n' });
    expect(await cli('train', seedFile, '--backend', 'gpu')).toMatchObject({ code: 1, stderr: '--backend must be cpu, webgpu or auto, not "gpu" (see backprop --help).\n' });
    expect((await cli('train', seedFile, '--fast')).stderr).toMatch(/^Unknown option '--fast'.* \(see backprop --help\)\.\n$/);
    expect(await cli('fly')).toMatchObject({ code: 1, stderr: '"fly" is not a command (see backprop --help).\n' });
    expect(await cli()).toMatchObject({ code: 1, stderr: 'A command is needed (see backprop --help).\n' });
  });
});

describe('backprop export and import-weights', () => {
  it('exports the seed\'s weights in state_dict naming', async () => {
    const { code, stdout } = await cli('export', example('seed-tutorial.json'), '--format', 'weights');
    expect(code).toBe(0);
    const weights = JSON.parse(stdout) as Record<string, number[]>;
    expect(Object.keys(weights)).toEqual(Object.keys(seed.init));
    for (const [key, t] of Object.entries(seed.init)) expectClose(weights[key].flat().map(Math.fround), t, TOL.exact, key);
  });

  it('exports the project itself, to a file with --out', async () => {
    const out = join(dir, 'copy.json');
    expect(await cli('export', example('xor.json'), '--format', 'project', '--out', out)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(exampleText('xor.json'));
    expect(await cli('export', example('xor.json'), '--format', 'tflite')).toMatchObject({ code: 1, stderr: 'export needs --format weights, pytorch, project or onnx, not "tflite" (see backprop --help).\n' });
  });

  it('exports a PyTorch script', async () => {
    const { code, stdout } = await cli('export', example('xor.json'), '--format', 'pytorch');
    expect(code).toBe(0);
    expect(stdout).toContain('optimizer = torch.optim.SGD(params, lr=0.5, momentum=0.9)');
  });

  it('exports an ONNX model to the file given with --out, never to the terminal', async () => {
    const out = join(dir, 'xor.onnx');
    expect(await cli('export', example('xor.json'), '--format', 'onnx', '--out', out)).toEqual({ code: 0, stdout: '', stderr: '' });
    const project = loadProject(exampleText('xor.json'));
    expect(new Uint8Array(readFileSync(out))).toEqual(exportOnnx(project, compile(project)));
    expect(await cli('export', example('xor.json'), '--format', 'onnx')).toEqual({
      code: 1, stdout: '', stderr: 'An ONNX model is binary, so it is not written to the terminal: give --out PATH (see backprop --help).\n',
    });
  });

  it('imports Python\'s state_dict dump into a project', async () => {
    const weights = fileURLToPath(new URL('../engine/project/fixtures/state_dict.json', import.meta.url));
    const out = join(dir, 'imported.json');
    expect(await cli('import-weights', example('iris.json'), weights, '--out', out)).toEqual({ code: 0, stdout: '', stderr: '' });
    const python = JSON.parse(readFileSync(weights, 'utf8')) as Record<string, number[][]>;
    const node = loadProject(readFileSync(out, 'utf8')).nodes.find((n) => n.id === 'hidden');
    expect(node?.type === 'Linear' && node.tensors?.weight?.flat().map(Math.fround)).toEqual(python['hidden.weight'].flat().map(Math.fround));
  });

  it('reports every mismatch of an imported weights file, naming it', async () => {
    const file = join(dir, 'wrong.json');
    await fs.writeFile(file, '{"hidden.weight": [[1, 2, 3]], "x": [1]}');
    const result = await cli('import-weights', example('seed-tutorial.json'), file, '--out', join(dir, 'never.json'));
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `${file}: "hidden.weight" has shape [1, 3] in the weights file, but the model's is [3, 3].`,
      `${file}: The weights file has "x", which the model does not have; its names are hidden.weight, hidden.bias, hidden2.weight, hidden2.bias, output.weight, output.bias.`,
      `${file}: The weights file has no "hidden.bias", which the model needs (shape [3]).`,
      `${file}: The weights file has no "hidden2.weight", which the model needs (shape [3, 3]).`,
      `${file}: The weights file has no "hidden2.bias", which the model needs (shape [3]).`,
      `${file}: The weights file has no "output.weight", which the model needs (shape [3, 3]).`,
      `${file}: The weights file has no "output.bias", which the model needs (shape [3]).`,
    ]);
    await expect(fs.stat(join(dir, 'never.json'))).rejects.toThrow();
    expect(await cli('import-weights', example('seed-tutorial.json'), file)).toMatchObject({
      code: 1, stderr: 'import-weights needs --out FILE for the project it writes (see backprop --help).\n',
    });
  });
});

describe('exit code 2', () => {
  it('is an internal error: said in one line, without a stack trace', async () => {
    let stderr = '';
    const code = await main(['check', example('xor.json')], {
      out: () => {
        throw new TypeError('cannot write');
      },
      err: (t) => void (stderr += t),
      interactive: false,
    });
    expect(code).toBe(2);
    expect(stderr).toBe('backprop: internal error: cannot write. Please report this.\n');
  });
});
