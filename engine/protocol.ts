/**
 * The engine protocol: every message between the app (renderer, Electron main) and the engine
 * host (Electron utility process or browser Web Worker), as valibot schemas with their types.
 * Every end validates what it receives with parseRequest / parseEvent, so a malformed message is
 * answered with an `error` instead of breaking the receiver.
 *
 * Requests carry an `id` (a whole number the sender picks); every reply carries the id of the
 * request it answers. Training replies with a stream: `progress` messages, then one `trained`.
 * Names are stable: other code is built against them; add messages and optional fields, never
 * rename or remove.
 *
 * Free of tensors and Node APIs (valibot schemas and the project format), so the renderer's
 * browser bundle takes it: the renderer imports nothing else of the engine.
 */
import * as v from 'valibot';
import type { Problem } from './project/problems';
import { type EpochRecord, LIMITS, NestedNumbers } from './project/schema';

export type { EpochRecord, NestedNumbers, Problem };

const requestId = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const count = (max: number) => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(max));

/**
 * Numbers the engine computed: NaN and ±Infinity included (a diverging run shows them; messages
 * are structured clones, not JSON). What the app sends in must be finite (NestedNumbers).
 */
const anyNumber = v.custom<number>((x) => typeof x === 'number', 'a number');
type Values = number | Values[];
const isValues = (x: unknown): x is Values => typeof x === 'number' || (Array.isArray(x) && x.every(isValues));
// One check for the whole nesting: a union per level builds (and drops) an issue and a copy of every list, and progress carries thousands a second.
const Values: v.GenericSchema<Values> = v.custom<Values>(isValues, 'a number or nested lists of numbers');

/** A model's parameters by state_dict key ("hidden.weight"), as nested lists. */
const WeightsSchema = v.record(v.string(), NestedNumbers);
export type Weights = v.InferOutput<typeof WeightsSchema>;
/** Weights the engine computed (NaN possible), as progress and replies carry them. */
const ComputedWeightsSchema = v.record(v.string(), Values);
export type ComputedWeights = v.InferOutput<typeof ComputedWeightsSchema>;

const EpochRecordSchema = v.strictObject({ epoch: v.pipe(v.number(), v.integer(), v.minValue(1)), loss: anyNumber, outputs: Values });

/** What `export` writes: weights JSON, a PyTorch script that trains as the app does, the project, or an ONNX model. */
const ExportFormatSchema = v.picklist(['weights', 'pytorch', 'project', 'onnx']);
export type ExportFormat = v.InferOutput<typeof ExportFormatSchema>;
/** What an export is: text, except the ONNX model's bytes. */
export type Exported<F extends ExportFormat> = F extends 'onnx' ? Uint8Array<ArrayBuffer> : string;

function request<T extends string, E extends v.ObjectEntries>(type: T, entries: E) {
  return v.strictObject({ type: v.literal(type), id: requestId, ...entries });
}

/** What the app asks of the host. */
export const RequestSchema = v.variant('type', [
  /**
   * Load a project document (the parsed JSON of a project file, any format version). Replaces
   * what was open and stops any training. `state`: where an earlier host left off (sent again
   * after the engine restarted): the weights to go on from, and the per-epoch history so far.
   * Answered by `opened`, with the problems if any.
   */
  request('open', {
    project: v.unknown(),
    state: v.optional(v.strictObject({ weights: ComputedWeightsSchema, history: v.array(EpochRecordSchema) })),
  }),
  /**
   * Train from where training stands. `epochs`: how many more epochs (default: up to the
   * project's training.epochs; none when those are done). `until`: 'end' (default) runs them all,
   * 'epoch' or 'batch' runs one epoch or one optimizer step and then pauses. `weights` (default
   * true): whether progress messages carry the current weights. `snapshots` (default 0: none):
   * progress carries the weights after every epoch that is a multiple of this, for a weight
   * history. Answered by `progress` messages and one `trained`.
   */
  request('train', {
    epochs: v.optional(count(LIMITS.epochs)),
    until: v.optional(v.picklist(['end', 'epoch', 'batch'])),
    weights: v.optional(v.boolean()),
    snapshots: v.optional(count(LIMITS.epochs)),
  }),
  /** Pause training after the current step; the running request gets `trained` 'paused', this one `ok`. */
  request('pause', {}),
  /** Go on with paused training; answered like `train`. `until` steps as in train. */
  request('resume', { until: v.optional(v.picklist(['end', 'epoch', 'batch'])) }),
  /** Stop training, keeping the weights and history so far; the running request gets `trained` 'cancelled', this one `ok`. */
  request('cancel', {}),
  /** Back to the project's initial weights, epoch 0, no history; answered by `weights`. */
  request('reset', {}),
  /** Set some or all parameters (state_dict keys); not while training runs (paused is fine). Answered by `weights`. */
  request('setWeights', { weights: WeightsSchema }),
  /**
   * One forward and backward pass on one sample (row `sample` of data.samples; 0 for a graph
   * without data) with the weights after `epoch` epochs (default: the current ones). Earlier
   * epochs are those since the last open or reset; a long run keeps every 2nd (4th, …) epoch's
   * weights once it holds more than the host's memory budget. Changes nothing: Dropout is off.
   * Answered by `traced`.
   */
  request('trace', { sample: count(LIMITS.rows), epoch: v.optional(count(LIMITS.epochs)) }),
  /**
   * The weights JSON (state_dict naming), a PyTorch script of the project with the current
   * weights, the project with the current weights and history, or the inference graph with the
   * current weights as an ONNX model. Answered by `exported`.
   */
  request('export', { format: ExportFormatSchema }),
], 'an unknown request type');
export type Request = v.InferOutput<typeof RequestSchema>;
export type RequestType = Request['type'];
export type RequestOf<T extends RequestType> = Extract<Request, { type: T }>;
export const REQUEST_TYPES: readonly RequestType[] = RequestSchema.options.map((o) => o.entries.type.literal);

const ProblemSchema = v.strictObject({
  message: v.string(),
  node: v.optional(v.string()),
  port: v.optional(v.string()),
  path: v.optional(v.string()),
});

const DimSchema = v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.literal('N')]);

const SummarySchema = v.strictObject({
  /** Every node in the order the graph runs (file order when the project does not compile). */
  nodes: v.array(v.strictObject({
    id: v.string(),
    name: v.string(),
    type: v.string(),
    /** The node's output shape, 'N' for the batch; null where it is unknown (a problem upstream). */
    shape: v.nullable(v.array(DimSchema)),
  })),
  /** Trainable tensors, in state_dict order. Empty when the project does not compile. */
  parameters: v.array(v.strictObject({ name: v.string(), shape: v.array(v.number()) })),
});
export type Summary = v.InferOutput<typeof SummarySchema>;

const DeviceSchema = v.strictObject({
  backend: v.picklist(['cpu', 'webgpu']),
  /** The GPU adapter's description, for the status bar. */
  adapter: v.optional(v.string()),
});
export type Device = v.InferOutput<typeof DeviceSchema>;

/** The optimizer's step for one parameter, as the trace shows it. */
const UpdateSchema = v.strictObject({
  optimizer: v.picklist(['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad']),
  lr: anyNumber,
  /** Which step of the optimizer this is (1 for the first). */
  step: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /**
   * The optimizer's state for the parameter after the step, named as PyTorch names it:
   * momentum_buffer (SGD with momentum), exp_avg = m and exp_avg_sq = v (Adam, AdamW),
   * max_exp_avg_sq (amsgrad), square_avg, grad_avg, momentum_buffer (RMSprop), sum (Adagrad).
   */
  state: v.record(v.string(), Values),
  /**
   * Quantities a worksheet writes down that the state does not hold: lr_grad = lr·g (SGD),
   * m_hat and v_hat, the bias-corrected moments (Adam, AdamW).
   */
  derived: v.record(v.string(), Values),
  /** The parameter after the step, and after − before. */
  after: Values,
  delta: Values,
});
export type Update = v.InferOutput<typeof UpdateSchema>;

const TraceNodeSchema = v.strictObject({
  id: v.string(),
  name: v.string(),
  type: v.string(),
  /** What arrives at each input port, from which node, and dL/d(that input) along this edge (null: no gradient, e.g. class indices). */
  inputs: v.array(v.strictObject({ port: v.string(), from: v.string(), value: Values, grad: v.nullable(Values) })),
  /** The node's output; for a Linear node this is the pre-activation sum x·Wᵀ + b. */
  output: Values,
  /** dL/d(output), summed over everything the output feeds; null where no gradient reaches it. */
  grad: v.nullable(Values),
  /** PyTorch's name of the backward function that made the output (AddmmBackward0, ReluBackward0, …); absent for data. */
  gradFn: v.optional(v.string()),
});

const TraceParameterSchema = v.strictObject({
  /** The state_dict key, e.g. "hidden.weight". */
  name: v.string(),
  node: v.string(),
  value: Values,
  /** dL/d(parameter) for this one sample; null where it gets none (frozen). */
  grad: v.nullable(Values),
  /** What the optimizer's next step would do with this gradient; null without a gradient. */
  update: v.nullable(UpdateSchema),
});

const TraceSchema = v.strictObject({
  sample: v.number(),
  /** The weights are those after this many epochs. */
  epoch: v.number(),
  /** The trained objective for this sample (the loss node's value, or the graph's single number). */
  loss: anyNumber,
  /** Every node the objective depends on, in the order the graph runs. */
  nodes: v.array(TraceNodeSchema),
  parameters: v.array(TraceParameterSchema),
});
export type Trace = v.InferOutput<typeof TraceSchema>;

function reply<T extends string, E extends v.ObjectEntries>(type: T, entries: E) {
  return v.strictObject({ type: v.literal(type), id: requestId, ...entries });
}

/** What the host (or Electron main, for `notice`) sends to the app. */
export const EventSchema = v.variant('type', [
  /** The host is listening; sent once when it starts. */
  v.strictObject({ type: v.literal('ready') }),
  reply('opened', {
    /** Every problem of the project; empty when it compiles. Training needs none. */
    problems: v.array(ProblemSchema),
    summary: SummarySchema,
    device: DeviceSchema,
  }),
  reply('progress', {
    /** Every epoch since the previous progress message, in order, none left out. */
    records: v.array(EpochRecordSchema),
    /** Optimizer steps done in the epoch now running (0 at an epoch's end): for stepping by batch. */
    batch: v.optional(count(LIMITS.rows)),
    /** The weights after the last step, when the train request asked for them. */
    weights: v.optional(ComputedWeightsSchema),
    /** The weights after each epoch of these records that the train request's `snapshots` asked for. */
    snapshots: v.optional(v.array(v.strictObject({ epoch: count(LIMITS.epochs), weights: ComputedWeightsSchema }))),
  }),
  reply('trained', {
    reason: v.picklist(['finished', 'paused', 'cancelled', 'failed']),
    /** Epochs completed since the last reset. */
    epoch: count(LIMITS.epochs),
    /** Why it failed, one sentence. */
    message: v.optional(v.string()),
  }),
  /** Answers pause and cancel. */
  reply('ok', {}),
  /** Answers reset and setWeights: every parameter now, and the epochs completed. */
  reply('weights', { weights: ComputedWeightsSchema, epoch: count(LIMITS.epochs) }),
  reply('traced', { trace: TraceSchema }),
  reply('exported', {
    format: ExportFormatSchema,
    /** The text formats' export. */
    text: v.optional(v.string()),
    /** The ONNX model (binary: messages are structured clones, which carry typed arrays). */
    bytes: v.optional(v.instance(Uint8Array)),
  }),
  /** Something the user should know that is no answer to a request (e.g. the engine restarted). */
  v.strictObject({ type: v.literal('notice'), message: v.string() }),
  /** A request could not be done (requestId: which), or a message could not be read. */
  v.strictObject({
    type: v.literal('error'),
    message: v.string(),
    requestId: v.optional(requestId),
    /** Each problem, when there are several (e.g. every mismatching weight). */
    problems: v.optional(v.array(ProblemSchema)),
  }),
], 'an unknown event type');
export type Event = v.InferOutput<typeof EventSchema>;
export type EventType = Event['type'];
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;
export const EVENT_TYPES: readonly EventType[] = EventSchema.options.map((o) => o.entries.type.literal);

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; requestId?: number };

/** One sentence for the first issue, naming where in the message it is. */
function describe(kind: string, issues: readonly v.BaseIssue<unknown>[], message: unknown): string {
  const typeOf = (message as { type?: unknown } | null)?.type;
  const label = typeof typeOf === 'string' ? `${kind} '${typeOf}'` : kind;
  const issue = issues[0];
  const path = v.getDotPath(issue);
  if (issue.type === 'variant' && (path === null || path === 'type')) {
    return typeof typeOf === 'string' ? `Unknown ${kind} type '${typeOf}'.` : `A ${kind} needs a "type".`;
  }
  if (issue.type === 'strict_object' && issue.expected === 'never') return `The ${label} has an unknown field "${path}".`;
  if (issue.input === undefined && path) return `The ${label} lacks "${path}".`;
  return `The ${label} is malformed${path ? ` at "${path}"` : ''}: ${issue.message}.`;
}

function idOf(message: unknown): number | undefined {
  const id = (message as { id?: unknown } | null)?.id;
  return v.is(requestId, id) ? id : undefined;
}

/** Validates a message sent to the host; a failure says what is wrong and keeps the id if there was one. */
export function parseRequest(message: unknown): Parsed<Request> {
  const result = v.safeParse(RequestSchema, message);
  if (result.success) return { ok: true, value: result.output };
  const id = idOf(message);
  return { ok: false, message: describe('request', result.issues, message), ...(id !== undefined ? { requestId: id } : {}) };
}

/** Validates a message from the host (or main). */
export function parseEvent(message: unknown): Parsed<Event> {
  const result = v.safeParse(EventSchema, message);
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, message: describe('event', result.issues, message) };
}

/** The most progress messages a second the host sends while training (the UI redraws at ~60 Hz). */
export const PROGRESS_PER_SECOND = 60;

/** What the app's clients of the host offer, over a Worker (browser) or the preload's port (desktop). */
export interface EngineClient {
  open(project: unknown): Promise<EventOf<'opened'>>;
  /** Resolves with `trained`; onProgress gets each progress message before that. */
  train(options: Omit<RequestOf<'train'>, 'type' | 'id'>, onProgress?: (event: EventOf<'progress'>) => void): Promise<EventOf<'trained'>>;
  pause(): Promise<void>;
  resume(options?: Omit<RequestOf<'resume'>, 'type' | 'id'>, onProgress?: (event: EventOf<'progress'>) => void): Promise<EventOf<'trained'>>;
  cancel(): Promise<void>;
  reset(): Promise<EventOf<'weights'>>;
  setWeights(weights: Weights): Promise<EventOf<'weights'>>;
  trace(sample: number, epoch?: number): Promise<Trace>;
  export<F extends ExportFormat>(format: F): Promise<Exported<F>>;
  /** Events that answer no request: notice, and errors without a requestId. Returns an unsubscribe. */
  onEvent(listener: (event: EventOf<'notice'> | EventOf<'error'>) => void): () => void;
  /** Stops the host (the Worker) or lets go of the channel. */
  close(): void;
}

// What the renderer uses of the project format, so that it imports nothing of the engine but this
// module: the document's types, its ports, and reading and writing project files (all free of tensors).
export type { NodeType, Project, ProjectData, ProjectNode } from './project/schema';
export { LIMITS, NODE_TYPES } from './project/schema';
export { inputPorts, isLoss, takesClasses } from './project/ports';
export { loadProject } from './project/load';
export { serializeProject } from './project/document';
export { formatFloat32, roundFloat32 } from './project/json';
// PyTorch's printed form of numbers and tensors (tensor-free), for rows a user copies.
export { formatFixed, formatScientific, formatValues } from './format';
export { ProjectError } from './project/problems';
// CSV import (papaparse, no Node APIs), for the data panel.
export { type CsvOptions, importCsv, isHeaderRow } from './io/csv';

/**
 * The Electron utility process running the host says it is alive this often, on its parent port
 * (not the engine channel), while idle and between training slices; main restarts a process
 * that has been silent for ENGINE_SILENCE_MS.
 */
export const ENGINE_HEARTBEAT_MS = 1000;
export const ENGINE_SILENCE_MS = 30_000;
