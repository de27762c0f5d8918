import { describe, expect, it } from 'vitest';
import { TrainingHistory } from '../../../renderer/training/history';
import { formatDuration, RateMeter } from '../../../renderer/training/progress';
import { accuracyPoints, decimate, lossPoints, outputSeries, PointCache, weightPoints } from '../../../renderer/training/series';

describe('chart series', () => {
  const history = new TrainingHistory([{ name: 'w', shape: [2] }]);
  history.add([
    { epoch: 1, loss: 0.75, outputs: [[0.5, 0.25], [0.25, 0.5]] },
    { epoch: 2, loss: 0.5, outputs: [[0.75, 0.25], [0.5, 0.25]] },
  ]);
  history.snapshot(0, { w: [1, 2] });
  history.snapshot(2, { w: [3, 4] });

  it('reads the loss, the outputs per class, the accuracy and a weight', () => {
    expect(lossPoints(history)).toEqual([{ x: 1, y: 0.75 }, { x: 2, y: 0.5 }]);
    expect(outputSeries(history, 1, ['a', 'b'])).toEqual([
      { label: 'a', points: [{ x: 1, y: 0.25 }, { x: 2, y: 0.5 }] },
      { label: 'b', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.25 }] },
    ]);
    expect(accuracyPoints(history, [0, 1])).toEqual([{ x: 1, y: 1 }, { x: 2, y: 0.5 }]);
    expect(weightPoints(history, 'w', 1)).toEqual([{ x: 0, y: 2 }, { x: 2, y: 4 }]);
    expect(weightPoints(history, 'v', 0)).toEqual([]);
  });
});

describe('the charts\' point cache', () => {
  it('extends the points as a run grows, and starts over when epochs are thinned, forgotten or a new run begins', () => {
    const grown = new TrainingHistory([], 4 * 4); // outputs: room for 4 epochs of one value
    const cache = new PointCache();
    const record = (epoch: number) => ({ epoch, loss: epoch / 10, outputs: [epoch] });
    grown.add([1, 2].map(record));
    const first = outputSeries(grown, 0, [], cache)[0].points;
    grown.add([3].map(record));
    const second = outputSeries(grown, 0, [], cache)[0].points;
    expect(second).toBe(first);
    expect(second).toEqual([1, 2, 3].map((x) => ({ x, y: x })));
    expect(lossPoints(grown, cache)).toBe(lossPoints(grown, cache));
    // Over the budget: every 2nd epoch and the latest.
    grown.add([4, 5, 6].map(record));
    expect(outputSeries(grown, 0, [], cache)[0].points.map((p) => p.x)).toEqual([2, 4, 6]);
    grown.add([7].map(record));
    expect(outputSeries(grown, 0, [], cache)[0].points.map((p) => p.x)).toEqual([2, 4, 6, 7]);
    // Forgotten epochs (a NaN), then other values for them.
    grown.truncate(4);
    grown.add([{ epoch: 5, loss: 9, outputs: [9] }]);
    expect(outputSeries(grown, 0, [], cache)[0].points).toEqual([{ x: 2, y: 2 }, { x: 4, y: 4 }, { x: 5, y: 9 }]);
    expect(lossPoints(grown, cache).at(-1)).toEqual({ x: 5, y: 9 });
    // A new run: a new history.
    const fresh = new TrainingHistory([]);
    fresh.add([{ epoch: 1, loss: 1, outputs: [0.5] }]);
    expect(outputSeries(fresh, 0, [], cache)[0].points).toEqual([{ x: 1, y: 0.5 }]);
  });
});

describe('decimate', () => {
  // A loss-like curve with a spike: 10,000 epochs.
  const points = Array.from({ length: 10_000 }, (_, i) => ({ x: i + 1, y: i === 6543 ? 50 : 1 / (i + 1) + Math.sin(i / 40) / 100 }));

  it('keeps a short series whole', () => {
    const few = points.slice(0, 30);
    expect(decimate(few, 100)).toEqual(few);
    expect(decimate([], 100)).toEqual([]);
  });

  it('keeps each bucket\'s lowest and highest point, in order, with both ends', () => {
    const kept = decimate(points, 100);
    expect(kept.length).toBeLessThanOrEqual(2 * 100 + 2);
    expect(kept[0]).toBe(points[0]);
    expect(kept.at(-1)).toBe(points.at(-1));
    expect(kept.every((p, i) => i === 0 || p.x > kept[i - 1].x)).toBe(true);
    expect(kept).toContain(points[6543]);
    // Bucket 50 holds epochs 5000.5 … 5100.49: its extremes, as a plain scan finds them.
    const bucket = points.filter((p) => p.x >= 1 + 50 * 99.99 && p.x < 1 + 51 * 99.99);
    const ys = bucket.map((p) => p.y);
    expect(kept).toContain(bucket[ys.indexOf(Math.min(...ys))]);
    expect(kept).toContain(bucket[ys.indexOf(Math.max(...ys))]);
  });

  it('keeps only the zoomed range, and the point beyond each end', () => {
    const kept = decimate(points, 50, 2000.5, 2100);
    expect(kept[0]).toBe(points[1999]); // epoch 2000, just before the range
    expect(kept.at(-1)).toBe(points[2100]); // epoch 2101, just after it
    expect(kept).toHaveLength(102); // few enough to keep whole
    expect(decimate(points, 10, 2000.5, 8000).every((p) => p.x >= 2000 && p.x <= 8001)).toBe(true);
  });
});

describe('progress', () => {
  it('measures epochs per second over the last moments and the time left', () => {
    const meter = new RateMeter(1000);
    meter.add(0, 0);
    expect(meter.rate).toBeUndefined();
    meter.add(500, 100);
    meter.add(1000, 200);
    expect(meter.rate).toBe(200);
    expect(meter.secondsLeft(200, 1200)).toBe(5);
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(7384)).toBe('2:03:04');
  });
});
