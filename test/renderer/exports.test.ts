/** The toolbar's exports in a browser: what each download is called. */
import { describe, expect, it } from 'vitest';
import { exportFileName } from '../../renderer/app/files';
import { emptyProject } from '../../renderer/state/commands';

describe('exports in the browser', () => {
  it('are named after the project file, or its title, with the export\'s ending', () => {
    expect(exportFileName(emptyProject(), '/home/ada/xor.bpstudio.json', 'onnx')).toBe('xor.onnx');
    expect(exportFileName(emptyProject(), 'iris.json', 'weights')).toBe('iris.weights.json');
    expect(exportFileName({ ...emptyProject(), title: 'Seed: tutorial!' }, null, 'pytorch')).toBe('seed-tutorial.py');
    expect(exportFileName(emptyProject(), null, 'onnx')).toBe('network.onnx');
  });
});
