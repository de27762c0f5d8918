export interface Timing {
  /** Median µs per step. */
  us: number;
  /** Steps timed. */
  steps: number;
}

/**
 * Times step() one call at a time for measureMs (and at least minSteps calls) after warmupMs of
 * untimed calls, which let the JIT and the wasm tier-up settle; the median shrugs off GC pauses.
 */
export function measure(step: () => void, warmupMs: number, measureMs: number, minSteps = 20): Timing {
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) step();
  const times: number[] = [];
  const end = performance.now() + measureMs;
  while (performance.now() < end || times.length < minSteps) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { us: times[times.length >> 1] * 1000, steps: times.length };
}

/** Warm-up and measured time per workload (ms): fixed durations, so slow steps get fewer samples. */
export const BUDGET = {
  seed: { warmupMs: 1000, measureMs: 2000 },
  mlp: { warmupMs: 2000, measureMs: 4000 },
} as const;

export type Workload = keyof typeof BUDGET;

/** The workloads named by `--only seed|mlp` (both without it). */
export function selectedWorkloads(argv: readonly string[]): Workload[] {
  const i = argv.indexOf('--only');
  if (i < 0) return ['seed', 'mlp'];
  const name = argv[i + 1];
  if (name !== 'seed' && name !== 'mlp') throw new Error(`--only takes seed or mlp, not ${name}`);
  return [name];
}
