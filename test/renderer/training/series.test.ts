import { describe, expect, it } from 'vitest';
import { TrainingHistory } from '../../../renderer/training/history';
import { formatDuration, RateMeter } from '../../../renderer/training/progress';
import { accuracyPoints, lossPoints, outputSeries, weightPoints } from '../../../renderer/training/series';

describe('chart series', () => {
  const history = new TrainingHistory([{ name: 'w', shape: [2] }]);
  history.add([
    { epoch: 1, loss: 0.75, outputs: [[0.5, 0.25], [0.25, 0.5]] },
    { epoch: 2, loss: 0.5, outputs: [[0.75, 0.25], [0.5, 0.25]] },
  ]);
  history.snapshot(0, { w: [1, 2] });
  history.snapshot(2, { w: [3, 4] });

  it('reads the loss, the outputs per class, the accuracy and a weight', () => {
    const cache = lossPoints(history);
    expect(cache).toEqual([{ x: 1, y: 0.75 }, { x: 2, y: 0.5 }]);
    expect(lossPoints(history, cache)).toBe(cache);
    expect(outputSeries(history, 1, ['a', 'b'])).toEqual([
      { label: 'a', points: [{ x: 1, y: 0.25 }, { x: 2, y: 0.5 }] },
      { label: 'b', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.25 }] },
    ]);
    expect(accuracyPoints(history, [0, 1])).toEqual([{ x: 1, y: 1 }, { x: 2, y: 0.5 }]);
    expect(weightPoints(history, 'w', 1)).toEqual([{ x: 0, y: 2 }, { x: 2, y: 4 }]);
    expect(weightPoints(history, 'v', 0)).toEqual([]);
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
