/**
 * WGSL sources of the compute kernels. Each kernel reads its sizes from a block of u32 words (see
 * Layout) bound at binding 0, and its tensors from storage bindings 1, 2, ... in the order listed.
 *
 * Every kernel runs in WebGPU's compatibility mode (at most 4 storage buffers, 128 invocations and
 * 16 KiB of workgroup memory) except the 128×128 matmul tiles (256 invocations), which are chosen
 * only where the device allows them. Element-wise kernels run one invocation per element on a 2-D grid of
 * workgroups (x wraps at the device's limit), so tensors past 65,535 workgroups still fit.
 */
import type { FusedActivation } from '../../backend';
import { binaryWgsl, UNARY_HELPERS, unaryWgsl } from './pointwise';
import { WGSL_MATH } from './wgsl_math';

/** Dims a kernel walks after neighbouring dims are merged (see coalesce). */
export const MAX_RANK = 8;
/** Invocations per workgroup of the element-wise and reduction kernels. */
export const WG = 128;
/** Elements one reduction workgroup folds per pass. */
export const REDUCE_CHUNK = WG * 16;
export const SOFTMAX_WG = 64;

export type ElementType = 'f32' | 'i32';

/** Named u32 slots of a kernel's parameter block; arrays are MAX_RANK long. */
export class Layout<K extends string> {
  readonly at: Record<K, number>;
  readonly words: number;

  constructor(scalars: readonly K[], arrays: readonly K[] = []) {
    const at = {} as Record<K, number>;
    let n = 0;
    for (const name of scalars) at[name] = n++;
    for (const name of arrays) {
      at[name] = n;
      n += MAX_RANK;
    }
    this.at = at;
    this.words = n;
  }

  /** The parameter block's declaration, its accessors word(i) and wordf(i), and a constant per name. */
  wgsl(): string {
    const names = Object.entries(this.at).map(([name, i]) => `const P_${name} = ${i}u;`).join('\n');
    return /* wgsl */ `
struct Params { w: array<vec4<u32>, ${Math.ceil(this.words / 4)}> }
@group(0) @binding(0) var<uniform> params: Params;
fn word(i: u32) -> u32 { return params.w[i >> 2u][i & 3u]; }
fn wordf(i: u32) -> f32 { return bitcast<f32>(word(i)); }
${names}
`;
  }
}

/** The invocation's element on the 2-D grid; P_nx is the grid's width in workgroups. */
const GRID = /* wgsl */ `
fn grid_index(wid: vec3<u32>, lid: u32, size: u32) -> u32 { return (wid.y * word(P_nx) + wid.x) * size + lid; }
`;

/** The offset of flat element i of a `rank`-dim shape walked with strides (both given as word indices). */
const STRIDED = /* wgsl */ `
fn strided(i: u32, rank: u32, shape: u32, strides: u32) -> u32 {
  var rest = i;
  var offset = 0u;
  for (var d = rank; d > 0u; d = d - 1u) {
    let size = word(shape + d - 1u);
    offset = offset + (rest % size) * word(strides + d - 1u);
    rest = rest / size;
  }
  return offset;
}
`;

const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;

export const unaryLayout = new Layout(['n', 'nx', 'p0', 'p1', 'pinf', 'ninf', 'nan']);

/** y = f(x); non-finite x take the CPU definition's results, passed in pinf, ninf and nan. */
export function unaryKernel(expr: string, src: ElementType): string {
  return /* wgsl */ `${unaryLayout.wgsl()}${GRID}${WGSL_MATH}${UNARY_HELPERS}
@group(0) @binding(1) var<storage, read> src: array<${src}>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
fn op(x: f32, p0: f32, p1: f32) -> f32 { return ${expr}; }
${ENTRY} {
  let i = grid_index(wid, lid, ${WG}u);
  if (i >= word(P_n)) { return; }
  let x = f32(src[i]);
  var y: f32;
  if (is_finite(x)) {
    y = op(x, wordf(P_p0), wordf(P_p1));
  } else if (is_nan(x)) {
    y = wordf(P_nan);
  } else {
    y = select(wordf(P_pinf), wordf(P_ninf), sign_bit(x) != 0u);
  }
  dst[i] = y;
}`;
}

export const backwardLayout = new Layout(['n', 'nx', 'p0', 'p1']);

/** dL/dx = f'(g, x) for a unary op, from the upstream gradient and the op's input (same shapes). */
export function unaryBackwardKernel(expr: string, src: ElementType): string {
  return /* wgsl */ `${backwardLayout.wgsl()}${GRID}${WGSL_MATH}${UNARY_HELPERS}
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<${src}>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
fn op(g: f32, x: f32, p0: f32, p1: f32) -> f32 { return ${expr}; }
${ENTRY} {
  let i = grid_index(wid, lid, ${WG}u);
  if (i >= word(P_n)) { return; }
  dst[i] = op(grad[i], f32(src[i]), wordf(P_p0), wordf(P_p1));
}`;
}

export const binaryLayout = new Layout(['n', 'nx', 'rank'], ['shape', 'sa', 'sb']);

/** out = f(a, b) with broadcasting: sa and sb are the operands' strides over the output's dims. */
export function binaryKernel(expr: string, a: ElementType, b: ElementType, out: ElementType): string {
  return /* wgsl */ `${binaryLayout.wgsl()}${GRID}${STRIDED}${WGSL_MATH}
@group(0) @binding(1) var<storage, read> lhs: array<${a}>;
@group(0) @binding(2) var<storage, read> rhs: array<${b}>;
@group(0) @binding(3) var<storage, read_write> dst: array<${out}>;
fn op(a: f32, b: f32) -> f32 { return ${expr}; }
${ENTRY} {
  let i = grid_index(wid, lid, ${WG}u);
  if (i >= word(P_n)) { return; }
  let rank = word(P_rank);
  let x = f32(lhs[strided(i, rank, P_shape, P_sa)]);
  let y = f32(rhs[strided(i, rank, P_shape, P_sb)]);
  dst[i] = ${out}(op(x, y));
}`;
}

export const copyLayout = new Layout(['n', 'nx', 'rank', 'src0', 'dst0'], ['shape', 'ss', 'ds']);

/**
 * dst[dst0 + Σ c·ds] = src[src0 + Σ c·ss] over every coordinate c of `shape`: transpose,
 * broadcastTo, slice, cat (one dispatch per input) and cast. float → int64 truncates.
 */
export function copyKernel(src: ElementType, dst: ElementType): string {
  return /* wgsl */ `${copyLayout.wgsl()}${GRID}${STRIDED}
@group(0) @binding(1) var<storage, read> src: array<${src}>;
@group(0) @binding(2) var<storage, read_write> dst: array<${dst}>;
${ENTRY} {
  let i = grid_index(wid, lid, ${WG}u);
  if (i >= word(P_n)) { return; }
  let rank = word(P_rank);
  dst[word(P_dst0) + strided(i, rank, P_shape, P_ds)] = ${dst}(src[word(P_src0) + strided(i, rank, P_shape, P_ss)]);
}`;
}

export const reduceLayout = new Layout(
  ['groups', 'nx', 'chunks', 'chunk', 'total', 'keptRank', 'reducedRank'],
  ['keptShape', 'keptStrides', 'reducedShape', 'reducedStrides'],
);

/**
 * One pass of a deterministic tree reduction. Output o's elements (offset keptStrides·o plus
 * reducedStrides·r for r < total) are cut into chunks of word(P_chunk); workgroup g folds chunk
 * g % chunks of output g / chunks: each invocation a strided run in order, then a fixed tree.
 * With more than one chunk the results are partials, reduced again by the next pass.
 *
 * 'max' keeps the first maximal index, NaN counting as maximal; its later passes read the
 * partials' indices from `src_index`.
 */
export function reduceKernel(kind: 'sum' | 'max', type: ElementType, fromPartials: boolean): string {
  const max = kind === 'max';
  const nanAware = type === 'f32';
  const identity = max ? (nanAware ? '-inf()' : '-2147483647 - 1') : `${type}(0)`;
  return /* wgsl */ `${reduceLayout.wgsl()}${WGSL_MATH}${STRIDED}
@group(0) @binding(1) var<storage, read> src: array<${type}>;
${max && fromPartials ? '@group(0) @binding(2) var<storage, read> src_index: array<i32>;' : ''}
@group(0) @binding(3) var<storage, read_write> dst: array<${type}>;
${max ? '@group(0) @binding(4) var<storage, read_write> dst_index: array<i32>;' : ''}
var<workgroup> values: array<${type}, ${WG}>;
${max ? `var<workgroup> indices: array<i32, ${WG}>;` : ''}

/** Whether (vb, ib) beats (va, ia): NaN first, then the larger value, then the smaller index. */
fn better(va: ${type}, ia: i32, vb: ${type}, ib: i32) -> bool {
  ${nanAware ? `let na = is_nan(va);
  let nb = is_nan(vb);
  if (na != nb) { return nb; }
  if (na || vb == va) { return ib < ia; }` : 'if (vb == va) { return ib < ia; }'}
  return vb > va;
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let g = wid.y * word(P_nx) + wid.x;
  if (g >= word(P_groups)) { return; }
  let chunks = word(P_chunks);
  let o = g / chunks;
  let start = (g % chunks) * word(P_chunk);
  let end = min(start + word(P_chunk), word(P_total));
  let base = strided(o, word(P_keptRank), P_keptShape, P_keptStrides);
  var acc: ${type} = ${identity};
  ${max ? 'var arg = 2147483647;' : ''}
  for (var r = start + t; r < end; r = r + ${WG}u) {
    let at = base + strided(r, word(P_reducedRank), P_reducedShape, P_reducedStrides);
    ${max ? `let index = ${fromPartials ? 'src_index[at]' : 'i32(r)'};
    if (better(acc, arg, src[at], index)) {
      acc = src[at];
      arg = index;
    }` : 'acc = acc + src[at];'}
  }
  values[t] = acc;
  ${max ? 'indices[t] = arg;' : ''}
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (t < s) {
      ${max ? `if (better(values[t], indices[t], values[t + s], indices[t + s])) {
        values[t] = values[t + s];
        indices[t] = indices[t + s];
      }` : 'values[t] = values[t] + values[t + s];'}
    }
  }
  if (t == 0u) {
    dst[g] = values[0];
    ${max ? 'dst_index[g] = indices[0];' : ''}
  }
}`;
}

export const softmaxLayout = new Layout(['rows', 'nx', 'size', 'inner']);

/** The row's first element; rows are outer × inner, each `size` elements at stride inner. */
const ROW = /* wgsl */ `
fn row_base(row: u32) -> u32 {
  let inner = word(P_inner);
  return (row / inner) * word(P_size) * inner + row % inner;
}
`;

/** A workgroup-wide fold of each invocation's value into partial[0] (a fixed tree: deterministic). */
function treeFold(combine: (a: string, b: string) => string): string {
  return /* wgsl */ `
  for (var s = ${SOFTMAX_WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (t < s) { partial[t] = ${combine('partial[t]', 'partial[t + s]')}; }
  }
  workgroupBarrier();`;
}

/**
 * A kernel with one workgroup per row (softmax, cross-entropy and their backward): the row's
 * `size`, `inner` and first element `base` are in scope of `body`, and `partial` is the
 * workgroup's scratch for treeFold. `layout` starts with softmaxLayout's words.
 */
function rowKernel(bindings: string, body: string, layout: Layout<string> = softmaxLayout, helpers = ''): string {
  return /* wgsl */ `${layout.wgsl()}${WGSL_MATH}${ROW}${helpers}
${bindings}
var<workgroup> partial: array<f32, ${SOFTMAX_WG}>;

@compute @workgroup_size(${SOFTMAX_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let row = wid.y * word(P_nx) + wid.x;
  if (row >= word(P_rows)) { return; }
  let size = word(P_size);
  let inner = word(P_inner);
  let base = row_base(row);${body}
}`;
}

/** The row's max `m` and sum of exp(src − m) `sum_exp`, in softmax's steps. */
const ROW_MAX_SUM = /* wgsl */ `
  var m = -inf();
  for (var k = t; k < size; k = k + ${SOFTMAX_WG}u) { m = max_either(m, src[base + k * inner]); }
  partial[t] = m;${treeFold((a, b) => `max_either(${a}, ${b})`)}
  m = partial[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var k = t; k < size; k = k + ${SOFTMAX_WG}u) { sum = sum + exp_f(src[base + k * inner] - m); }
  partial[t] = sum;${treeFold((a, b) => `${a} + ${b}`)}
  let sum_exp = partial[0];`;

/**
 * softmax or log_softmax of each row, one workgroup per row, in PyTorch's steps: the max, the sum
 * of exp(x − max), then exp(x − max)·(1/sum), or (x − max) − log(sum).
 */
export function softmaxKernel(log: boolean): string {
  return rowKernel(`@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;`, /* wgsl */ `${ROW_MAX_SUM}
  ${log ? 'let log_sum = log_f(sum_exp);' : 'let scale = fdiv(1.0, sum_exp);'}
  for (var k = t; k < size; k = k + ${SOFTMAX_WG}u) {
    let at = base + k * inner;
    dst[at] = ${log ? '(src[at] - m) - log_sum' : 'exp_f(src[at] - m) * scale'};
  }`);
}

/** From the upstream gradient g and the output y: (g − Σ g·y)·y, or for log_softmax g − exp(y)·Σ g. */
export function softmaxBackwardKernel(log: boolean): string {
  return rowKernel(`@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;`, /* wgsl */ `
  var sum = 0.0;
  for (var k = t; k < size; k = k + ${SOFTMAX_WG}u) {
    let at = base + k * inner;
    sum = sum + ${log ? 'grad[at]' : 'grad[at] * out[at]'};
  }
  partial[t] = sum;${treeFold((a, b) => `${a} + ${b}`)}
  sum = partial[0];
  for (var k = t; k < size; k = k + ${SOFTMAX_WG}u) {
    let at = base + k * inner;
    dst[at] = ${log ? 'grad[at] - exp_f(out[at]) * sum' : '(grad[at] - sum) * out[at]'};
  }`);
}

/** softmaxLayout's words, then the 'mean' reduction's total weight and the gradient's layout. */
export const crossEntropyLayout = new Layout(['rows', 'nx', 'size', 'inner', 'total', 'mean', 'gradPerRow']);

/** Class-index targets for the fused cross-entropy: [N, 2] f32, each row's class and its weight (0 where ignored). */
const CE_TARGETS = '@group(0) @binding(2) var<storage, read> targets: array<f32>;';

/**
 * Cross-entropy with class-index targets, log_softmax and nll fused, one workgroup per row (rows
 * along dim 1 of [N, C]): −weight·log_softmax(x)[class], with log_softmax's and nll's own steps
 * (so the same bits as log_softmax, gather, neg and mul).
 */
export function crossEntropyKernel(): string {
  return rowKernel(`@group(0) @binding(1) var<storage, read> src: array<f32>;
${CE_TARGETS}
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;`, /* wgsl */ `${ROW_MAX_SUM}
  if (t == 0u) {
    let logp = (src[base + u32(targets[2u * row]) * inner] - m) - log_f(sum_exp);
    dst[row] = (-logp) * targets[2u * row + 1u];
  }`, crossEntropyLayout);
}

/**
 * The fused cross-entropy's gradient from the upstream gradient g (one value, or one per row): nll's
 * backward, c = mul_nonzero(weight, −g/total) ('mean') or mul_nonzero(weight, −g), at the class, and
 * log_softmax's backward: c·[k = class] − exp(log_softmax(x))·c, as those kernels compute it.
 */
export function crossEntropyBackwardKernel(): string {
  return rowKernel(`@group(0) @binding(1) var<storage, read> src: array<f32>;
${CE_TARGETS}
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;`, /* wgsl */ `${ROW_MAX_SUM}
  let log_sum = log_f(sum_exp);
  let cls = u32(targets[2u * row]);
  var g = grad[select(0u, row, word(P_gradPerRow) != 0u)];
  if (word(P_mean) != 0u) { g = div(g, wordf(P_total)); }
  let c = mul_nonzero(targets[2u * row + 1u], -g);
  for (var k = t; k < size; k = k + ${SOFTMAX_WG}u) {
    let at = base + k * inner;
    dst[at] = select(0.0, c, k == cls) - exp_f((src[at] - m) - log_sum) * c;
  }`, crossEntropyLayout, `
fn div(a: f32, b: f32) -> f32 { return ${binaryWgsl.div}; }
fn mul_nonzero(a: f32, b: f32) -> f32 { return ${binaryWgsl.mul_nonzero}; }`);
}

/** pinf, ninf and nan: the fused activation's results for non-finite inputs, as unaryLayout's. */
export const matmulLayout = new Layout(['m', 'n', 'k', 'batch0', 'batchRank', 'pinf', 'ninf', 'nan'], ['batchShape', 'batchA', 'batchB']);

/** What matmul's epilogue adds to each output: a bias along its columns, then an activation. */
export interface MatmulEpilogue {
  bias: boolean;
  activation: FusedActivation | null;
}

/**
 * The epilogue as a WGSL function of an output and its column: the bias as the binary add kernel
 * adds it, the activation as the unary kernel applies it (non-finite inputs take the CPU's results).
 */
function epilogueWgsl({ bias, activation }: MatmulEpilogue): string {
  return /* wgsl */ `${bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
${activation ? `${WGSL_MATH}${UNARY_HELPERS}\nfn activation(x: f32) -> f32 { return ${unaryWgsl[activation]}; }` : ''}
fn epilogue(v: f32, col: u32) -> f32 {
  ${bias ? 'let x = v + bias[col];' : 'let x = v;'}
  ${activation ? `if (is_finite(x)) { return activation(x); }
  if (is_nan(x)) { return wordf(P_nan); }
  return select(wordf(P_pinf), wordf(P_ninf), sign_bit(x) != 0u);` : 'return x;'}
}`;
}

/**
 * matmul's two tilings. 'small' fits compatibility mode's minimums (128 invocations, 16 KiB of
 * workgroup memory): 64×64 tiles of C, 16 wide along k, 128 invocations (16 × 8) computing 4 × 8
 * outputs each at columns tx + 16j and rows ty + 8i, so neighbouring invocations touch
 * neighbouring words. 'large', for a device with 256 invocations per workgroup: 128×128 tiles, 8
 * wide along k, 256 invocations (16 × 16) computing 8 × 8 outputs each from four 4 × 4 blocks
 * (rows 4ty + i and 64 + 4ty + i, columns 4tx + j and 64 + 4tx + j), read from workgroup memory
 * as vec4s: 64 multiply-adds per 4 vec4 reads, where 'small' does 32 per 9 reads.
 */
export const MATMUL_TILES = {
  small: { tile: 64, depth: 16, threads: [16, 8] },
  large: { tile: 128, depth: 8, threads: [16, 16] },
} as const;

export type MatmulTiling = keyof typeof MATMUL_TILES;

/** Which operands 'large' reads from global memory as vec4s: those whose contiguous dim is a multiple of 4. */
export interface MatmulVec4 {
  a: boolean;
  b: boolean;
}

/**
 * C = op(A)·op(B) for a batch of matrices, tiled as MATMUL_TILES says, with the tiles of A and B
 * staged through workgroup memory. Transposed operands only change how tiles are loaded (each load
 * still walks memory contiguously). Sums run over k in order, so both tilings give the same bits.
 * Workgroup z is the batch entry (from batch0); batchA and batchB are the operands' strides, in
 * elements, over the broadcast batch dims. Each output goes through `epilogue` as it is stored.
 * With 'large', an operand in `vec4` is bound as vec4s and each invocation loads one vec4 of its
 * tile (a quarter of the loads); only the loads change, so the bits do not.
 */
export function matmulKernel(transA: boolean, transB: boolean, epilogue: MatmulEpilogue = { bias: false, activation: null },
  tiling: MatmulTiling = 'small', vec4: MatmulVec4 = { a: false, b: false }): string {
  const { tile: T, depth: BK, threads: [TX, TY] } = MATMUL_TILES[tiling];
  const large = tiling === 'large';
  if (!large && (vec4.a || vec4.b)) throw new Error("matmul: vec4 loads need the 'large' tiling");
  const invocations = TX * TY;
  // Element e of a tile load, e = t + invocations·q, as (row, k) or (k, col) with the contiguous
  // index fastest, stored at k·T + row (or col): 'large' keeps its tiles as vec4s of 4 neighbours.
  const store = (tileName: string, index: string): string => (large ? `${tileName}[(${index}) >> 2u][(${index}) & 3u] = v;` : `${tileName}[${index}] = v;`);
  const loadA = transA
    ? `let kk = e / ${T}u; let mm = e % ${T}u; let gm = m0 + mm; let gk = k0 + kk;
      var v = 0.0;
      if (gm < M && gk < K) { v = a[a0 + gk * M + gm]; }
      ${store('tile_a', `kk * ${T}u + mm`)}`
    : `let mm = e / ${BK}u; let kk = e % ${BK}u; let gm = m0 + mm; let gk = k0 + kk;
      var v = 0.0;
      if (gm < M && gk < K) { v = a[a0 + gm * K + gk]; }
      ${store('tile_a', `kk * ${T}u + mm`)}`;
  const loadB = transB
    ? `let nn = e / ${BK}u; let kk = e % ${BK}u; let gn = n0 + nn; let gk = k0 + kk;
      var v = 0.0;
      if (gn < N && gk < K) { v = b[b0 + gn * K + gk]; }
      ${store('tile_b', `kk * ${T}u + nn`)}`
    : `let kk = e / ${T}u; let nn = e % ${T}u; let gn = n0 + nn; let gk = k0 + kk;
      var v = 0.0;
      if (gn < N && gk < K) { v = b[b0 + gk * N + gn]; }
      ${store('tile_b', `kk * ${T}u + nn`)}`;
  // The scalar loads: (T·BK)/invocations elements an invocation.
  const scalarLoad = (load: string): string => `for (var q = 0u; q < ${(T * BK) / invocations}u; q = q + 1u) {
      let e = t + ${invocations}u * q;
      ${load}
    }`;
  // A vec4 load (T·BK/4 = invocations for 'large'): four neighbours along the operand's contiguous
  // dim, which is k (rows of the tile along m or n) or m or n (rows along k). A multiple of 4, so a
  // vec4 is wholly inside or wholly outside the matrix; the tile stores 4 neighbours along m or n.
  const vecLoad = (operand: 'a' | 'b', alongK: boolean): string => {
    const [origin, size, base] = operand === 'a' ? ['m0', 'M', 'a0'] : ['n0', 'N', 'b0'];
    return alongK
      ? `let r = t / ${BK / 4}u; let kq = t % ${BK / 4}u; let g = ${origin} + r; let gk = k0 + 4u * kq;
    var v = vec4<f32>();
    if (g < ${size} && gk < K) { v = ${operand}[(${base} + g * K + gk) >> 2u]; }
    for (var l = 0u; l < 4u; l = l + 1u) { tile_${operand}[(4u * kq + l) * ${T / 4}u + (r >> 2u)][r & 3u] = v[l]; }`
      : `let kk = t / ${T / 4}u; let q = t % ${T / 4}u; let g = ${origin} + 4u * q; let gk = k0 + kk;
    var v = vec4<f32>();
    if (g < ${size} && gk < K) { v = ${operand}[(${base} + gk * ${size} + g) >> 2u]; }
    tile_${operand}[kk * ${T / 4}u + q] = v;`;
  };
  const loadTileA = vec4.a ? vecLoad('a', !transA) : scalarLoad(loadA);
  const loadTileB = vec4.b ? vecLoad('b', transB) : scalarLoad(loadB);
  const tiles = large
    ? `var<workgroup> tile_a: array<vec4<f32>, ${(T * BK) / 4}>;
var<workgroup> tile_b: array<vec4<f32>, ${(T * BK) / 4}>;`
    : `var<workgroup> tile_a: array<f32, ${T * BK}>;
var<workgroup> tile_b: array<f32, ${T * BK}>;`;
  // Each acc[i] holds 4 of the invocation's outputs (rowOf, colOf below).
  const accs = large ? 16 : 8;
  const product = large
    ? `let q = kk * ${T / 4}u;
      let a_lo = tile_a[q + lid.y];
      let a_hi = tile_a[q + 16u + lid.y];
      let b_lo = tile_b[q + lid.x];
      let b_hi = tile_b[q + 16u + lid.x];
      for (var i = 0u; i < 4u; i = i + 1u) {
        acc[i] = acc[i] + a_lo[i] * b_lo;
        acc[4u + i] = acc[4u + i] + a_hi[i] * b_lo;
        acc[8u + i] = acc[8u + i] + a_lo[i] * b_hi;
        acc[12u + i] = acc[12u + i] + a_hi[i] * b_hi;
      }`
    : `let row = kk * ${T}u;
      let bv = vec4<f32>(tile_b[row + lid.x], tile_b[row + lid.x + 16u], tile_b[row + lid.x + 32u], tile_b[row + lid.x + 48u]);
      for (var i = 0u; i < 8u; i = i + 1u) {
        acc[i] = acc[i] + tile_a[row + lid.y + 8u * i] * bv;
      }`;
  // Output (i, j) of acc, as its row and column in the tile.
  const rowOf = large ? '4u * lid.y + (i & 3u) + 64u * ((i >> 2u) & 1u)' : 'lid.y + 8u * i';
  const colOf = large ? '4u * lid.x + j + 64u * (i >> 3u)' : 'lid.x + 16u * j';
  return /* wgsl */ `${matmulLayout.wgsl()}${STRIDED}
@group(0) @binding(1) var<storage, read> a: array<${vec4.a ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read> b: array<${vec4.b ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
${epilogueWgsl(epilogue)}
${tiles}

@compute @workgroup_size(${TX}, ${TY})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let M = word(P_m);
  let N = word(P_n);
  let K = word(P_k);
  let batch = word(P_batch0) + wid.z;
  let a0 = strided(batch, word(P_batchRank), P_batchShape, P_batchA);
  let b0 = strided(batch, word(P_batchRank), P_batchShape, P_batchB);
  let c0 = batch * M * N;
  let m0 = wid.y * ${T}u;
  let n0 = wid.x * ${T}u;
  var acc: array<vec4<f32>, ${accs}>;
  for (var k0 = 0u; k0 < K; k0 = k0 + ${BK}u) {
    {
    ${loadTileA}
    }
    {
    ${loadTileB}
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk = kk + 1u) {
      ${product}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${accs}u; i = i + 1u) {
    let gm = m0 + ${rowOf};
    if (gm < M) {
      for (var j = 0u; j < 4u; j = j + 1u) {
        let gn = n0 + ${colOf};
        if (gn < N) { c[c0 + gm * N + gn] = epilogue(acc[i][j], gn); }
      }
    }
  }
}`;
}

export const gatherLayout = new Layout(['n', 'nx', 'size', 'inner', 'xsize']);

/** out[o, k, i] = x[o, index[o, k, i], i] over index's [outer, size, inner] split at dim. */
export function gatherKernel(type: ElementType): string {
  return /* wgsl */ `${gatherLayout.wgsl()}${GRID}
@group(0) @binding(1) var<storage, read> src: array<${type}>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> dst: array<${type}>;
${ENTRY} {
  let i = grid_index(wid, lid, ${WG}u);
  if (i >= word(P_n)) { return; }
  let inner = word(P_inner);
  let o = i / (word(P_size) * inner);
  dst[i] = src[(o * word(P_xsize) + u32(index[i])) * inner + i % inner];
}`;
}

export const scatterLayout = new Layout(['n', 'nx', 'region', 'size', 'inner', 'xsize']);

/**
 * scatter_add into zeros without atomics: each output element [o, j, i] sums, in order of k, the
 * src[o, k, i] whose index is j (the CPU's order, so float32 sums agree bit for bit).
 */
export function scatterKernel(type: ElementType): string {
  return /* wgsl */ `${scatterLayout.wgsl()}${GRID}
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read> src: array<${type}>;
@group(0) @binding(3) var<storage, read_write> dst: array<${type}>;
${ENTRY} {
  let e = grid_index(wid, lid, ${WG}u);
  if (e >= word(P_n)) { return; }
  var acc = ${type}(0);
  if (e < word(P_region)) {
    let inner = word(P_inner);
    let size = word(P_size);
    let xsize = word(P_xsize);
    let o = e / (xsize * inner);
    let j = i32((e / inner) % xsize);
    let i = e % inner;
    for (var k = 0u; k < size; k = k + 1u) {
      let at = (o * size + k) * inner + i;
      if (index[at] == j) { acc = acc + src[at]; }
    }
  }
  dst[e] = acc;
}`;
}
