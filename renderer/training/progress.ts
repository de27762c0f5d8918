/** Epochs per second and time left, from when epochs arrived (the last few seconds count). */
export class RateMeter {
  #samples: { time: number; epoch: number }[] = [];

  constructor(readonly windowMs = 3000) {}

  add(timeMs: number, epoch: number): void {
    this.#samples.push({ time: timeMs, epoch });
    while (this.#samples.length > 2 && timeMs - this.#samples[0].time > this.windowMs) this.#samples.shift();
  }

  reset(): void {
    this.#samples = [];
  }

  /** Epochs per second; undefined until two moments apart are known. */
  get rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.time <= first.time) return undefined;
    return ((last.epoch - first.epoch) * 1000) / (last.time - first.time);
  }

  /** Seconds until `target` epochs at the current rate. */
  secondsLeft(epoch: number, target: number): number | undefined {
    const rate = this.rate;
    return rate ? Math.max(0, target - epoch) / rate : undefined;
  }
}

/** "1:05", "2:03:04": a duration for the progress bar. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * Calls `fire` at most once every `intervalMs`: at once when the last call is that long ago,
 * otherwise once when the interval ends, so the last request of a burst is never lost.
 */
export class Throttle {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last = -Infinity;

  constructor(readonly intervalMs: number, private readonly fire: () => void) {}

  request(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#last + this.intervalMs - performance.now();
    if (wait <= 0) this.#fire();
    else this.#timer = setTimeout(() => this.#fire(), wait);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#last = performance.now();
    this.fire();
  }
}
