/// <reference types="webgpu" />
/**
 * GPU memory that steady-state training never allocates: buffers come back to a pool by size
 * class, and kernel parameters go through a bounded uniform arena.
 */

/** The size class of a request: ≥ 256 bytes, rounded up to a quarter of its power of two (≤ 25% slack). */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** (Math.floor(Math.log2(bytes - 1)) - 2);
  return Math.ceil(bytes / step) * step;
}

interface Free {
  buffer: GPUBuffer;
  /** The batch in flight when it was released (its commands may still read it), or -1. */
  batch: number;
}

export interface PoolStats {
  /** Buffers alive (in use and free). */
  buffers: number;
  bytes: number;
  free: number;
}

/**
 * Buffers of one usage, reused by size class. A buffer released while commands that use it are
 * still being recorded is "dirty" until that batch is submitted: kernels may write it at once
 * (commands run in order), but queue.writeBuffer would run before those commands, so uploads
 * take only clean buffers.
 */
export class BufferPool {
  private readonly free = new Map<number, Free[]>();
  private readonly owned = new Set<GPUBuffer>();
  private readonly idle = new Set<GPUBuffer>();
  private bytes = 0;
  /** The number of the batch being recorded. */
  private batch = 0;
  private recording = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
  ) {}

  acquire(bytes: number, clean = false): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    if (list) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (!clean || list[i].batch < this.batch) {
          const { buffer } = list[i];
          list.splice(i, 1);
          this.idle.delete(buffer);
          return buffer;
        }
      }
    }
    const buffer = this.device.createBuffer({ size, usage: this.usage, label: this.label });
    this.owned.add(buffer);
    this.bytes += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.owned.has(buffer)) throw new Error(`this buffer does not belong to the ${this.label} pool`);
    if (this.idle.has(buffer)) throw new Error(`a ${this.label} buffer was released twice`);
    this.idle.add(buffer);
    const list = this.free.get(buffer.size) ?? [];
    list.push({ buffer, batch: this.recording ? this.batch : -1 });
    this.free.set(buffer.size, list);
  }

  /** Commands are being recorded into the current batch. */
  recordingBatch(): void {
    this.recording = true;
  }

  /** The current batch was submitted: buffers released during it are clean from now on. */
  submitted(): void {
    if (!this.recording) return;
    this.recording = false;
    this.batch++;
  }

  /** Frees the idle buffers (memory pressure, or a model that shrank). */
  trim(): void {
    for (const buffer of this.idle) {
      this.owned.delete(buffer);
      this.bytes -= buffer.size;
      buffer.destroy();
    }
    this.idle.clear();
    this.free.clear();
  }

  destroy(): void {
    for (const buffer of this.owned) buffer.destroy();
    this.owned.clear();
    this.idle.clear();
    this.free.clear();
    this.bytes = 0;
  }

  stats(): PoolStats {
    return { buffers: this.owned.size, bytes: this.bytes, free: this.idle.size };
  }
}

/** A slice of the uniform arena: write the kernel's parameters into `u32` (or `f32`, the same words). */
export interface UniformSlice {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
}

interface Chunk {
  buffer: GPUBuffer;
  data: ArrayBuffer;
}

/**
 * Every dispatch of a batch gets its own slice of a few fixed-size uniform buffers, filled on the
 * CPU and written with one writeBuffer per chunk just before the batch is submitted. After the
 * submit the chunks are reused (queue operations run in order), so the arena grows only to the
 * largest batch and nothing is cached by value.
 */
export class UniformArena {
  private readonly chunks: Chunk[] = [];
  private chunk = 0;
  private offset = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly alignment: number,
    private readonly chunkBytes = 65536,
  ) {}

  alloc(words: number): UniformSlice {
    const size = Math.ceil(words / 4) * 16;
    if (this.offset + size > this.chunkBytes) {
      this.chunk++;
      this.offset = 0;
    }
    if (this.chunk === this.chunks.length) {
      const buffer = this.device.createBuffer({
        size: this.chunkBytes,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        label: 'kernel parameters',
      });
      this.chunks.push({ buffer, data: new ArrayBuffer(this.chunkBytes) });
    }
    const { buffer, data } = this.chunks[this.chunk];
    const offset = this.offset;
    this.offset += Math.ceil(size / this.alignment) * this.alignment;
    const u32 = new Uint32Array(data, offset, size / 4);
    return { buffer, offset, size, u32, f32: new Float32Array(data, offset, size / 4) };
  }

  /** Writes the used slices; call right before the batch's submit. */
  upload(queue: GPUQueue): void {
    for (let i = 0; i <= this.chunk && i < this.chunks.length; i++) {
      const used = i < this.chunk ? this.chunkBytes : this.offset;
      if (used > 0) queue.writeBuffer(this.chunks[i].buffer, 0, this.chunks[i].data, 0, used);
    }
    this.chunk = 0;
    this.offset = 0;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  destroy(): void {
    for (const { buffer } of this.chunks) buffer.destroy();
    this.chunks.length = 0;
  }
}
