import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Throttle } from '../../../renderer/training/progress';

describe('Throttle', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('fires at once, then at most once an interval, and always after the last request', () => {
    let fired = 0;
    const throttle = new Throttle(250, () => fired++);
    throttle.request();
    expect(fired).toBe(1);
    // A burst of requests within the interval: one more call, at its end.
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(10);
      throttle.request();
    }
    expect(fired).toBe(1);
    vi.advanceTimersByTime(149);
    expect(fired).toBe(1);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(2);
    // Nothing more was asked for: nothing more comes.
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(2);
    // Long after, a request fires at once again.
    throttle.request();
    expect(fired).toBe(3);
  });
});
