/// <reference types="webgpu" />
/**
 * The WebGPU backend's kernels: the methods of engine/backend.ts's Backend, on GPU tensor handles.
 * Kernels only record commands; nothing is submitted until flush() or download() (one command
 * buffer per batch of ops, typically a training step), and values come back only when asked.
 */
import type { Backend, FusedActivation } from '../../backend';
import { type DType, promote, type Storage } from '../../dtype';
import { type BinaryOp, type DifferentiableUnaryOp, type UnaryOp, unaryFns } from '../../ops/pointwise';
import { broadcastShapes, broadcastStrides, contiguousStrides, formatShape, numel, sameShape, type Shape, splitAt } from '../../shape';
import type { Tensor } from '../../tensor';
import type { GpuContext } from './device';
import {
  backwardLayout, binaryKernel, binaryLayout, copyKernel, copyLayout, crossEntropyBackwardKernel, crossEntropyKernel, crossEntropyLayout,
  type ElementType, gatherKernel, gatherLayout, type Layout,
  MATMUL_TILES, matmulKernel, matmulLayout, type MatmulTiling, MAX_RANK, REDUCE_CHUNK, reduceKernel, reduceLayout, scatterKernel,
  scatterLayout, softmaxBackwardKernel, softmaxKernel, softmaxLayout, unaryBackwardKernel, unaryKernel, unaryLayout, WG,
} from './kernels';
import { type OptimizerBuffers, optimizerKernel, optimizerLayout, type StepKernel, stepBindings } from './optim';
import { binaryWgsl, unaryBackwardWgsl, unaryWgsl } from './pointwise';
import { BufferPool, type PoolStats, UniformArena } from './pool';

/** float64 stays on the CPU: WGSL has no f64. int64 is stored as i32 (class indices, counts). */
export type GpuDType = 'float32' | 'int64';

/** A tensor on the GPU: a pooled buffer holding numel(shape) contiguous 4-byte elements. */
export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly shape: Shape;
  readonly dtype: GpuDType;
}

type Swap<T> = T extends Tensor
  ? GpuTensor
  : T extends readonly Tensor[]
    ? readonly GpuTensor[]
    : T extends { values: Tensor; indices: Tensor }
      ? { values: GpuTensor; indices: GpuTensor }
      : T;
type OnGpu<F> = F extends (...args: infer A) => infer R ? (...args: { [I in keyof A]: Swap<A[I]> }) => Swap<R> : never;
/** Backend's kernels with GpuTensor for Tensor: a kernel added to Backend must be added here too. */
export type GpuKernels = { [K in Exclude<keyof Backend, 'name' | 'optimizerStep'>]: OnGpu<Backend[K]> };

/**
 * Why the backend stopped: 'lost' (the device is gone) and 'oom' (out of memory) leave the values
 * on the GPU unusable, so the engine carries on on the CPU; 'error' is a validation or compile
 * error, a bug, and names the kernel and shapes.
 */
export class GpuFailure extends Error {
  override name = 'GpuFailure';
  constructor(message: string, readonly kind: 'lost' | 'oom' | 'error') {
    super(message);
  }
}

export interface WebGPUBackendOptions {
  /** Lower than the device's limit to exercise the 2-D dispatch on small tensors (tests). */
  maxWorkgroupsPerDimension?: number;
  /** One matmul tiling for every size (tests); by default 'large' where the device and the matrix allow it. */
  matmulTiling?: MatmulTiling;
}

export interface BackendStats {
  pool: PoolStats;
  staging: PoolStats;
  uniformChunks: number;
  pipelines: number;
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

interface Walk {
  shape: number[];
  strides: number[][];
}

const TYPE: Record<GpuDType, ElementType> = { float32: 'f32', int64: 'i32' };

function onGpu(dtype: DType, op: string): GpuDType {
  if (dtype === 'float64') throw new Error(`${op}: float64 tensors stay on the CPU (WGSL has no 64-bit floats)`);
  return dtype;
}

/** Merges neighbouring dims that every stride list walks contiguously, and drops dims of size 1. */
function coalesce(shape: Shape, strides: readonly (readonly number[])[], label: string): Walk {
  const out: Walk = { shape: [], strides: strides.map(() => []) };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && strides.every((s, j) => out.strides[j][last] === s[d] * shape[d])) {
      out.shape[last] *= shape[d];
      strides.forEach((s, j) => (out.strides[j][last] = s[d]));
    } else {
      out.shape.push(shape[d]);
      strides.forEach((s, j) => out.strides[j].push(s[d]));
    }
  }
  if (out.shape.length > MAX_RANK) throw new Error(`${label}: the GPU kernels walk at most ${MAX_RANK} dims`);
  return out;
}

function toInt32(data: ArrayLike<number>): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.trunc(data[i]);
    if (!(v >= -0x80000000 && v <= 0x7fffffff)) throw new Error(`the int64 value ${data[i]} does not fit the GPU's 32-bit integers`);
    out[i] = v;
  }
  return out;
}

export class WebGPUBackend implements GpuKernels {
  readonly name = 'webgpu';
  private readonly device: GPUDevice;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly uniforms: UniformArena;
  private readonly compiled = new Map<string, Compiled>();
  private readonly maxGroups: number;
  private readonly maxBinding: number;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private failure: GpuFailure | null = null;
  private recorded = 0;
  private dispatches = 0;
  private roundTrips = 0;
  /** Each kernel's first dispatch (op and shapes), which a compile error reported later names. */
  private readonly firstUse = new Map<string, string>();
  private readonly maxStorageBuffers: number;
  private readonly matmulTiling: MatmulTiling | undefined;
  /** The device runs MATMUL_TILES.large's workgroups (compatibility mode's minimums do not). */
  private readonly largeTiles: boolean;

  constructor(context: GpuContext, options: WebGPUBackendOptions = {}) {
    const { device, limits } = context;
    this.device = device;
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'tensor');
    this.staging = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    this.uniforms = new UniformArena(device, limits.minUniformBufferOffsetAlignment);
    this.maxGroups = Math.min(limits.maxComputeWorkgroupsPerDimension, options.maxWorkgroupsPerDimension ?? Infinity);
    this.maxBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    this.maxStorageBuffers = limits.maxStorageBuffersPerShaderStage;
    const [tx, ty] = MATMUL_TILES.large.threads;
    const { tile, depth } = MATMUL_TILES.large;
    this.largeTiles = limits.maxComputeInvocationsPerWorkgroup >= tx * ty && limits.maxComputeWorkgroupSizeY >= ty
      && limits.maxComputeWorkgroupStorageSize >= 2 * tile * depth * 4;
    this.matmulTiling = options.matmulTiling;
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      if (error.constructor.name === 'GPUOutOfMemoryError') {
        this.failure ??= new GpuFailure(`the GPU ran out of memory (${error.message})`, 'oom');
        return;
      }
      const kernels = [...this.firstUse].filter(([key]) => error.message.includes(`"${key}"`)).map(([key, use]) => `${key}: first used by ${use}`);
      this.failure ??= new GpuFailure(`WebGPU error: ${error.message}${kernels.length > 0 ? ` (${kernels.join('; ')})` : ''}`, 'error');
    });
    void context.lost.then((reason) => {
      this.failure ??= new GpuFailure(reason, 'lost');
    });
  }

  // ---- memory and scheduling ----

  /** A new GPU tensor holding host values (int64 values must fit 32 bits). */
  fromHost(data: Storage, shape: readonly number[], dtype: DType): GpuTensor {
    const n = numel(shape);
    if (data.length !== n) throw new Error(`fromHost: ${data.length} values for shape ${formatShape(shape)}`);
    const out = this.alloc(shape, onGpu(dtype, 'fromHost'), true);
    if (n > 0) {
      const words = dtype === 'int64' ? toInt32(data) : data instanceof Float32Array ? data : Float32Array.from(data);
      this.device.queue.writeBuffer(out.buffer, 0, words.buffer, words.byteOffset, n * 4);
    }
    return out;
  }

  /** Submits what is recorded and reads the tensor back (int64 as a Float64Array, like the CPU's). */
  async download(t: GpuTensor): Promise<Float32Array | Float64Array> {
    return (await this.downloadMany([t]))[0];
  }

  /** download() for several tensors at once: one staging buffer, one submit, one round trip. */
  async downloadMany(ts: readonly GpuTensor[]): Promise<(Float32Array | Float64Array)[]> {
    this.check();
    const offsets: number[] = [];
    let bytes = 0;
    for (const t of ts) {
      offsets.push(bytes);
      bytes += Math.ceil((numel(t.shape) * 4) / 256) * 256; // copies start at 4-byte multiples; 256 keeps rows apart
    }
    const values = (data: ArrayBuffer, i: number): Float32Array | Float64Array => {
      const n = numel(ts[i].shape);
      return ts[i].dtype === 'int64' ? Float64Array.from(new Int32Array(data, offsets[i], n)) : new Float32Array(data.slice(offsets[i], offsets[i] + n * 4));
    };
    if (bytes === 0) return ts.map((_, i) => values(new ArrayBuffer(0), i));
    const staging = this.staging.acquire(bytes);
    this.roundTrips++;
    this.endPass();
    const commands = this.commands();
    ts.forEach((t, i) => {
      const size = numel(t.shape) * 4;
      if (size > 0) commands.copyBufferToBuffer(t.buffer, 0, staging, offsets[i], size);
    });
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (error) {
      this.check();
      throw error;
    }
    const data = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    this.staging.release(staging);
    this.check();
    return ts.map((_, i) => values(data, i));
  }

  /** Records a copy of src's values into dst's from element `offset` on: in-place writes such as load_state_dict. */
  copyInto(dst: GpuTensor, src: GpuTensor, offset = 0): void {
    this.check();
    const bytes = numel(src.shape) * 4;
    if (offset < 0 || offset + numel(src.shape) > numel(dst.shape)) {
      throw new Error(`copyInto: ${formatShape(src.shape)} into ${formatShape(dst.shape)} at element ${offset}`);
    }
    if (bytes === 0) return;
    this.endPass();
    this.commands().copyBufferToBuffer(src.buffer, 0, dst.buffer, offset * 4, bytes);
    this.pool.recordingBatch();
  }

  /** Kernels dispatched since the backend opened: a training step's count is what the fused kernels save (DESIGN.md). */
  get dispatched(): number {
    return this.dispatches;
  }

  /** GPU→host round trips since the backend opened: staging buffers mapped by downloadMany(), however many tensors each holds. */
  get readBacks(): number {
    return this.roundTrips;
  }

  /** Commands recorded since the last flush (submitted with the next one). */
  get pending(): number {
    return this.recorded;
  }

  /** Returns the tensor's buffer to the pool. Handles sharing a buffer (views) must release it once. */
  release(t: GpuTensor): void {
    this.pool.release(t.buffer);
  }

  /** Submits the recorded commands as one command buffer. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    this.uniforms.upload(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.recorded = 0;
    this.pool.submitted();
  }

  /** Frees pooled buffers that no tensor holds. */
  trim(): void {
    this.pool.trim();
    this.staging.trim();
  }

  stats(): BackendStats {
    return { pool: this.pool.stats(), staging: this.staging.stats(), uniformChunks: this.uniforms.chunkCount, pipelines: this.compiled.size };
  }

  /** Frees every buffer of this backend (the device itself belongs to its GpuContext). */
  dispose(): void {
    this.endPass();
    this.encoder = null;
    this.pool.destroy();
    this.staging.destroy();
    this.uniforms.destroy();
  }

  // ---- kernels ----

  unary(op: UnaryOp, x: GpuTensor, params: readonly number[]): GpuTensor {
    const out = this.alloc(x.shape, 'float32');
    const fn = unaryFns[op];
    const p = params.map(Math.fround);
    const type = TYPE[x.dtype];
    const at = unaryLayout.at;
    this.elementwise(`unary ${op} ${type}`, () => unaryKernel(unaryWgsl[op], type), unaryLayout, `${op} ${formatShape(x.shape)}`,
      numel(x.shape), (u, f) => {
        f[at.p0] = p[0] ?? 0;
        f[at.p1] = p[1] ?? 0;
        f[at.pinf] = fn(Infinity, p, Math.fround);
        f[at.ninf] = fn(-Infinity, p, Math.fround);
        f[at.nan] = fn(NaN, p, Math.fround);
      }, [x.buffer, out.buffer]);
    return out;
  }

  unaryBackward(op: DifferentiableUnaryOp, grad: GpuTensor, x: GpuTensor, params: readonly number[]): GpuTensor {
    const out = this.alloc(x.shape, 'float32');
    const p = params.map(Math.fround);
    const type = TYPE[x.dtype];
    const at = backwardLayout.at;
    this.elementwise(`backward ${op} ${type}`, () => unaryBackwardKernel(unaryBackwardWgsl[op], type), backwardLayout,
      `${op} backward ${formatShape(x.shape)}`, numel(x.shape), (u, f) => {
        f[at.p0] = p[0] ?? 0;
        f[at.p1] = p[1] ?? 0;
      }, [grad.buffer, x.buffer, out.buffer]);
    return out;
  }

  binary(op: BinaryOp, a: GpuTensor, b: GpuTensor): GpuTensor {
    const shape = sameShape(a.shape, b.shape) ? a.shape.slice() : broadcastShapes(a.shape, b.shape);
    const out = this.alloc(shape, onGpu(promote(a.dtype, b.dtype), op));
    const n = numel(shape);
    if (n === 0) return out;
    const label = `${op} ${formatShape(a.shape)} ${formatShape(b.shape)}`;
    const walk = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)], label);
    const [ta, tb, to] = [TYPE[a.dtype], TYPE[b.dtype], TYPE[out.dtype]];
    const at = binaryLayout.at;
    this.elementwise(`binary ${op} ${ta} ${tb} ${to}`, () => binaryKernel(binaryWgsl[op], ta, tb, to), binaryLayout, label, n, (u) => {
      u[at.rank] = walk.shape.length;
      u.set(walk.shape, at.shape);
      u.set(walk.strides[0], at.sa);
      u.set(walk.strides[1], at.sb);
    }, [a.buffer, b.buffer, out.buffer]);
    return out;
  }

  sum(x: GpuTensor, dims: readonly number[], keepdim: boolean): GpuTensor {
    const reduced = new Set(dims);
    const shape = keepdim ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : x.shape.filter((_, i) => !reduced.has(i));
    const strides = contiguousStrides(x.shape);
    const kept = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
    const label = `sum ${formatShape(x.shape)} over [${dims.join(', ')}]`;
    return this.reduce('sum', x, shape, label,
      coalesce(kept.map((i) => x.shape[i]), [kept.map((i) => strides[i])], label),
      coalesce(dims.map((i) => x.shape[i]), [dims.map((i) => strides[i])], label)).values;
  }

  max(x: GpuTensor, dim: number, keepdim: boolean): { values: GpuTensor; indices: GpuTensor } {
    const [outer, size, inner] = splitAt(x.shape, dim);
    const label = `max ${formatShape(x.shape)} along ${dim}`;
    if (size === 0) throw new Error(`${label}: the dim is empty`);
    const shape = keepdim ? x.shape.map((d, i) => (i === dim ? 1 : d)) : x.shape.filter((_, i) => i !== dim);
    const { values, indices } = this.reduce('max', x, shape, label,
      coalesce([outer, inner], [[size * inner, 1]], label), coalesce([size], [[inner]], label));
    return { values, indices: indices as GpuTensor };
  }

  matmul(a: GpuTensor, b: GpuTensor, transA: boolean, transB: boolean): GpuTensor {
    return this.matmulWith(a, b, transA, transB, null, null);
  }

  /** x·weightᵀ + bias, then `activation`, in one kernel: matmul's epilogue adds and applies them as it stores each output. */
  linear(x: GpuTensor, weight: GpuTensor, bias: GpuTensor | null, activation: FusedActivation | null): GpuTensor {
    return this.matmulWith(x, weight, false, true, bias, activation);
  }

  private matmulWith(a: GpuTensor, b: GpuTensor, transA: boolean, transB: boolean, bias: GpuTensor | null,
    activation: FusedActivation | null): GpuTensor {
    const fused = `${bias ? ` + bias ${formatShape(bias.shape)}` : ''}${activation ? `, ${activation}` : ''}`;
    const label = `matmul ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} ${formatShape(b.shape)}${transB ? 'ᵀ' : ''}${fused}`;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`${label}: the GPU multiplies float32 matrices only`);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const batch = broadcastShapes(batchA, batchB);
    const out = this.alloc([...batch, m, n], 'float32');
    const batches = numel(batch);
    if (batches * m * n === 0) return out;
    const walk = coalesce(batch, [
      broadcastStrides(batchA, batch).map((s) => s * m * k),
      broadcastStrides(batchB, batch).map((s) => s * k * n),
    ], label);
    // The large tiles pay once both sides fill one; below, most of their outputs would be padding.
    const tiling = this.matmulTiling ?? (this.largeTiles && m >= MATMUL_TILES.large.tile && n >= MATMUL_TILES.large.tile ? 'large' : 'small');
    const { tile } = MATMUL_TILES[tiling];
    // vec4 loads where the operand's contiguous dim is a multiple of 4 (so are its batch strides).
    const vec4 = { a: tiling === 'large' && (transA ? m : k) % 4 === 0, b: tiling === 'large' && (transB ? k : n) % 4 === 0 };
    const [tx, ty] = [Math.ceil(n / tile), Math.ceil(m / tile)];
    if (tx > this.maxGroups || ty > this.maxGroups) throw new Error(`${label}: too large for one dispatch`);
    const at = matmulLayout.at;
    const epilogue = { bias: bias !== null, activation };
    const fn = activation ? unaryFns[activation] : null;
    for (let first = 0; first < batches; first += this.maxGroups) {
      this.dispatch(`matmul ${tiling} ${transA} ${transB} ${vec4.a} ${vec4.b}${fused ? ` ${epilogue.bias} ${activation}` : ''}`,
        () => matmulKernel(transA, transB, epilogue, tiling, vec4),
        matmulLayout, label, (u, f) => {
          u[at.m] = m;
          u[at.n] = n;
          u[at.k] = k;
          u[at.batch0] = first;
          u[at.batchRank] = walk.shape.length;
          u.set(walk.shape, at.batchShape);
          u.set(walk.strides[0], at.batchA);
          u.set(walk.strides[1], at.batchB);
          if (fn) {
            f[at.pinf] = fn(Infinity, [], Math.fround);
            f[at.ninf] = fn(-Infinity, [], Math.fround);
            f[at.nan] = fn(NaN, [], Math.fround);
          }
        }, [a.buffer, b.buffer, out.buffer, ...(bias ? [bias.buffer] : [])], tx, ty, Math.min(this.maxGroups, batches - first));
    }
    return out;
  }

  softmax(x: GpuTensor, dim: number, log: boolean): GpuTensor {
    const label = `${log ? 'log_softmax' : 'softmax'} ${formatShape(x.shape)} along ${dim}`;
    if (x.dtype !== 'float32') throw new Error(`${label}: needs a float32 tensor`);
    const out = this.alloc(x.shape, 'float32');
    this.rows(`softmax ${log}`, () => softmaxKernel(log), label, x.shape, dim, [x.buffer, out.buffer]);
    return out;
  }

  softmaxBackward(grad: GpuTensor, output: GpuTensor, dim: number, log: boolean): GpuTensor {
    const out = this.alloc(output.shape, 'float32');
    this.rows(`softmax backward ${log}`, () => softmaxBackwardKernel(log),
      `${log ? 'log_softmax' : 'softmax'} backward ${formatShape(output.shape)} along ${dim}`, output.shape, dim,
      [grad.buffer, output.buffer, out.buffer]);
    return out;
  }

  crossEntropy(x: GpuTensor, targets: GpuTensor): GpuTensor {
    const label = `cross_entropy ${formatShape(x.shape)}`;
    if (x.dtype !== 'float32') throw new Error(`${label}: needs a float32 tensor`);
    const out = this.alloc([x.shape[0]], 'float32');
    this.rows('cross_entropy', crossEntropyKernel, label, x.shape, 1, [x.buffer, targets.buffer, out.buffer], crossEntropyLayout);
    return out;
  }

  crossEntropyBackward(x: GpuTensor, targets: GpuTensor, grad: GpuTensor, total: number | null): GpuTensor {
    const out = this.alloc(x.shape, 'float32');
    const at = crossEntropyLayout.at;
    this.rows('cross_entropy backward', crossEntropyBackwardKernel, `cross_entropy backward ${formatShape(x.shape)}`, x.shape, 1,
      [x.buffer, targets.buffer, grad.buffer, out.buffer], crossEntropyLayout, (u, f) => {
        f[at.total] = total ?? 1;
        u[at.mean] = total === null ? 0 : 1;
        u[at.gradPerRow] = grad.shape.length > 0 ? 1 : 0;
      });
    return out;
  }

  transpose(x: GpuTensor, dim0: number, dim1: number): GpuTensor {
    const shape = x.shape.slice();
    [shape[dim0], shape[dim1]] = [shape[dim1], shape[dim0]];
    const strides = contiguousStrides(x.shape);
    [strides[dim0], strides[dim1]] = [strides[dim1], strides[dim0]];
    const out = this.alloc(shape, x.dtype);
    this.copy(`transpose ${formatShape(x.shape)} ${dim0} ${dim1}`, x, out, shape, strides, 0, contiguousStrides(shape), 0);
    return out;
  }

  broadcastTo(x: GpuTensor, shape: readonly number[]): GpuTensor {
    const out = this.alloc(shape, x.dtype);
    this.copy(`broadcastTo ${formatShape(x.shape)} ${formatShape(shape)}`, x, out, shape, broadcastStrides(x.shape, shape), 0,
      contiguousStrides(shape), 0);
    return out;
  }

  cat(xs: readonly GpuTensor[], dim: number): GpuTensor {
    const shape = xs[0].shape.slice();
    shape[dim] = xs.reduce((s, x) => s + x.shape[dim], 0);
    const dtype = onGpu(xs.map((x) => x.dtype as DType).reduce(promote), 'cat');
    const out = this.alloc(shape, dtype);
    const strides = contiguousStrides(shape);
    let offset = 0;
    for (const x of xs) {
      this.copy(`cat ${formatShape(x.shape)} into ${formatShape(shape)}`, x, out, x.shape, contiguousStrides(x.shape), 0, strides,
        offset * (strides[dim] ?? 1));
      offset += x.shape[dim];
    }
    return out;
  }

  slice(x: GpuTensor, dim: number, start: number, end: number): GpuTensor {
    const shape = x.shape.slice();
    shape[dim] = end - start;
    const out = this.alloc(shape, x.dtype);
    const strides = contiguousStrides(x.shape);
    this.copy(`slice ${formatShape(x.shape)} ${dim} ${start}:${end}`, x, out, shape, strides, start * strides[dim], contiguousStrides(shape), 0);
    return out;
  }

  gather(x: GpuTensor, dim: number, index: GpuTensor): GpuTensor {
    const out = this.alloc(index.shape, x.dtype);
    const [, size, inner] = splitAt(index.shape, dim);
    const type = TYPE[x.dtype];
    const at = gatherLayout.at;
    this.elementwise(`gather ${type}`, () => gatherKernel(type), gatherLayout, `gather ${formatShape(x.shape)} ${dim} ${formatShape(index.shape)}`,
      numel(index.shape), (u) => {
        u[at.size] = size;
        u[at.inner] = inner;
        u[at.xsize] = x.shape[dim];
      }, [x.buffer, index.buffer, out.buffer]);
    return out;
  }

  scatterAdd(shape: readonly number[], dim: number, index: GpuTensor, src: GpuTensor): GpuTensor {
    const out = this.alloc(shape, src.dtype);
    const [outer, size, inner] = splitAt(index.shape, dim);
    const type = TYPE[src.dtype];
    const at = scatterLayout.at;
    this.elementwise(`scatterAdd ${type}`, () => scatterKernel(type), scatterLayout,
      `scatterAdd ${formatShape(shape)} ${dim} ${formatShape(index.shape)}`, numel(shape), (u) => {
        u[at.region] = outer * shape[dim] * inner;
        u[at.size] = size;
        u[at.inner] = inner;
        u[at.xsize] = shape[dim];
      }, [index.buffer, src.buffer, out.buffer]);
    return out;
  }

  cast(x: GpuTensor, dtype: DType): GpuTensor {
    const out = this.alloc(x.shape, onGpu(dtype, 'cast'));
    const strides = contiguousStrides(x.shape);
    this.copy(`cast ${formatShape(x.shape)} ${x.dtype} to ${dtype}`, x, out, x.shape, strides, 0, strides, 0);
    return out;
  }

  /**
   * One optimizer step for one parameter, in place: `state` in the order OptimizerBuffers names,
   * `hyper` the kind's scalars (optim.ts HYPER), `flags` FLAG bits, `locked` the lock mask's bytes
   * as u32 words (a locked element keeps its value). One fused kernel, or three (StepKernel) where
   * it binds more storage buffers than the device has.
   */
  optimizerStep(buffers: OptimizerBuffers, param: GpuTensor, grad: GpuTensor, state: readonly GpuTensor[], hyper: readonly number[],
    flags: number, locked: GpuTensor | null): void {
    const label = `${buffers.kind} step ${formatShape(param.shape)}${buffers.state.length > 0 ? ` (${buffers.state.join(', ')})` : ''}${locked ? ' locked' : ''}`;
    if (param.dtype !== 'float32' || grad.dtype !== 'float32') throw new Error(`${label}: the GPU updates float32 parameters only`);
    const at = optimizerLayout.at;
    const run = (kernel: StepKernel, storage: GPUBuffer[]): void =>
      this.elementwise(`optim ${kernel} ${buffers.kind} ${buffers.state.join(' ')}${buffers.locked ? ' locked' : ''}`,
        () => optimizerKernel(buffers, kernel), optimizerLayout, kernel === 'fused' ? label : `${label}, ${kernel} kernel`, numel(param.shape),
        (u, f) => {
          u[at.zero] = 0;
          u[at.flags] = flags;
          hyper.forEach((v, i) => (f[at.h0 + i] = v));
        }, storage);
    const mask = locked ? [locked.buffer] : [];
    if (stepBindings(buffers, 'fused').length <= this.maxStorageBuffers) {
      run('fused', [param.buffer, grad.buffer, ...state.map((t) => t.buffer), ...mask]);
      return;
    }
    const scratch = this.alloc(param.shape, 'float32');
    run('gradient', [param.buffer, grad.buffer, scratch.buffer]);
    run('state', [scratch.buffer, ...state.map((t) => t.buffer)]);
    run('parameter', [param.buffer, scratch.buffer, ...mask]);
    this.release(scratch);
  }

  // ---- plumbing ----

  private alloc(shape: Shape, dtype: GpuDType, clean = false): GpuTensor {
    const bytes = Math.max(4, numel(shape) * 4);
    if (bytes > this.maxBinding) {
      throw new Error(`a ${dtype} tensor of shape ${formatShape(shape)} needs ${bytes} bytes; this GPU binds at most ${this.maxBinding}`);
    }
    return { buffer: this.pool.acquire(bytes, clean), shape: shape.slice(), dtype };
  }

  private copy(label: string, src: GpuTensor, dst: GpuTensor, shape: Shape, srcStrides: readonly number[], src0: number,
    dstStrides: readonly number[], dst0: number): void {
    const n = numel(shape);
    if (n === 0) return;
    const walk = coalesce(shape, [srcStrides, dstStrides], label);
    const [ts, td] = [TYPE[src.dtype], TYPE[dst.dtype]];
    const at = copyLayout.at;
    this.elementwise(`copy ${ts} ${td}`, () => copyKernel(ts, td), copyLayout, label, n, (u) => {
      u[at.rank] = walk.shape.length;
      u[at.src0] = src0;
      u[at.dst0] = dst0;
      u.set(walk.shape, at.shape);
      u.set(walk.strides[0], at.ss);
      u.set(walk.strides[1], at.ds);
    }, [src.buffer, dst.buffer]);
  }

  /** One invocation per element of `n` on the 2-D grid: sets the layout's n and nx, then `fill` the kernel's own words. */
  private elementwise<K extends string>(key: string, source: () => string, layout: Layout<K | 'n' | 'nx'>, label: string, n: number,
    fill: (u32: Uint32Array, f32: Float32Array) => void, storage: GPUBuffer[]): void {
    if (n === 0) return;
    const [nx, ny] = this.grid(Math.ceil(n / WG));
    this.dispatch(key, source, layout, label, (u, f) => {
      u[layout.at.n] = n;
      u[layout.at.nx] = nx;
      fill(u, f);
    }, storage, nx, ny);
  }

  /** One workgroup per row along `dim` (softmax, cross-entropy and their backward); `fill` sets the layout's words past softmaxLayout's. */
  private rows(key: string, source: () => string, label: string, shape: Shape, dim: number, buffers: GPUBuffer[],
    layout: Layout<keyof typeof softmaxLayout.at> = softmaxLayout, fill: (u32: Uint32Array, f32: Float32Array) => void = () => undefined): void {
    const [outer, size, inner] = splitAt(shape, dim);
    const rows = outer * inner;
    if (rows * size === 0) return;
    const [nx, ny] = this.grid(rows);
    const at = layout.at;
    this.dispatch(key, source, layout, label, (u, f) => {
      u[at.rows] = rows;
      u[at.nx] = nx;
      u[at.size] = size;
      u[at.inner] = inner;
      fill(u, f);
    }, buffers, nx, ny);
  }

  /** Sum or max over `reduced` for each output in `kept`, in passes of REDUCE_CHUNK elements. */
  private reduce(kind: 'sum' | 'max', x: GpuTensor, shape: Shape, label: string, kept: Walk, reduced: Walk): { values: GpuTensor; indices?: GpuTensor } {
    const outputs = numel(kept.shape);
    const type = TYPE[x.dtype];
    let src = x.buffer;
    let srcIndex: GPUBuffer | undefined;
    let partials: GpuTensor[] = [];
    let walks = { kept, reduced };
    let total = numel(reduced.shape);
    const at = reduceLayout.at;
    for (let pass = 0; ; pass++) {
      const chunks = Math.max(1, Math.ceil(total / REDUCE_CHUNK));
      const outShape = chunks === 1 ? shape : [outputs * chunks];
      const values = this.alloc(outShape, x.dtype);
      const indices = kind === 'max' ? this.alloc(outShape, 'int64') : undefined;
      if (outputs === 0) return { values, indices };
      const [nx, ny] = this.grid(outputs * chunks);
      const from = pass > 0 && kind === 'max';
      const { kept: k, reduced: r } = walks;
      const chunkTotal = total;
      this.dispatch(`reduce ${kind} ${type} ${from}`, () => reduceKernel(kind, type, from), reduceLayout, label, (u) => {
        u[at.groups] = outputs * chunks;
        u[at.nx] = nx;
        u[at.chunks] = chunks;
        u[at.chunk] = REDUCE_CHUNK;
        u[at.total] = chunkTotal;
        u[at.keptRank] = k.shape.length;
        u[at.reducedRank] = r.shape.length;
        u.set(k.shape, at.keptShape);
        u.set(k.strides[0], at.keptStrides);
        u.set(r.shape, at.reducedShape);
        u.set(r.strides[0], at.reducedStrides);
      }, { 1: src, 2: from ? srcIndex : undefined, 3: values.buffer, 4: indices?.buffer }, nx, ny);
      // Commands run in order, so the partials read above may be reused by later kernels at once.
      for (const t of partials) this.release(t);
      if (chunks === 1) return { values, indices };
      partials = indices ? [values, indices] : [values];
      src = values.buffer;
      srcIndex = indices?.buffer;
      walks = { kept: { shape: [outputs], strides: [[chunks]] }, reduced: { shape: [chunks], strides: [[1]] } };
      total = chunks;
    }
  }

  /** A grid of `groups` workgroups: x up to the device's limit, y as many rows as that takes. */
  private grid(groups: number): [number, number] {
    if (groups <= this.maxGroups) return [Math.max(groups, 1), 1];
    const rows = Math.ceil(groups / this.maxGroups);
    if (rows > this.maxGroups) throw new Error(`${groups} workgroups exceed one dispatch`);
    return [Math.ceil(groups / rows), rows];
  }

  private dispatch<K extends string>(key: string, source: () => string, layout: Layout<K>, label: string,
    fill: (u32: Uint32Array, f32: Float32Array) => void, storage: Record<number, GPUBuffer | undefined> | GPUBuffer[],
    x: number, y = 1, z = 1): void {
    this.check();
    if (!this.firstUse.has(key)) this.firstUse.set(key, label); // before compiling: Dawn may report its errors at once
    const kernel = this.kernel(key, source);
    const params = this.uniforms.alloc(layout.words);
    params.u32.fill(0);
    fill(params.u32, params.f32);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params.buffer, offset: params.offset, size: params.size } }];
    const buffers = Array.isArray(storage) ? Object.fromEntries(storage.map((b, i) => [i + 1, b])) : storage;
    for (const [binding, buffer] of Object.entries(buffers)) {
      if (buffer) entries.push({ binding: Number(binding), resource: { buffer } });
    }
    const bindGroup = this.device.createBindGroup({ layout: kernel.layout, entries, label });
    const pass = this.computePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.recorded++;
    this.dispatches++;
    this.pool.recordingBatch();
  }

  private kernel(key: string, source: () => string): Compiled {
    let kernel = this.compiled.get(key);
    if (!kernel) {
      const module = this.device.createShaderModule({ code: source(), label: key });
      const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      kernel = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.compiled.set(key, kernel);
    }
    return kernel;
  }

  private commands(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'engine batch' });
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commands().beginComputePass({ label: 'engine kernels' });
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Throws the first validation error or the device's loss, once either has been reported. */
  private check(): void {
    if (this.failure) throw this.failure;
  }
}
