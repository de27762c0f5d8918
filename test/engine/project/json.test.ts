import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatFloat32, lineColumn, parseJson, roundFloat32, stringifyDocument } from '../../../engine/project/json';
import { ProjectError } from '../../../engine/project/problems';

interface FloatCase { bits: number; numpy: string; python: string }
const floats = (JSON.parse(readFileSync(new URL('./fixtures/floats.json', import.meta.url), 'utf8')) as { values: FloatCase[] }).values;

function fromBits(bits: number): number {
  return new Float32Array(new Int32Array([bits]).buffer)[0];
}

/** The one message parseJson gives for text. */
function jsonError(text: string): string {
  try {
    parseJson(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ProjectError);
    const problems = (e as ProjectError).problems;
    expect(problems).toHaveLength(1);
    return problems[0].message;
  }
  throw new Error(`parseJson accepted ${text}`);
}

describe('parseJson', () => {
  it.each([
    ['{"a": 1,}', 'line 1, column 9: a comma must not come right before \'}\''],
    ['{\n  "a": [1, NaN]\n}', 'line 2, column 12: NaN is not allowed in JSON; every number must be finite'],
    ['[1,\n -Infinity]', 'line 2, column 2: -Infinity is not allowed in JSON'],
    ['[Infinity]', 'line 1, column 2: Infinity is not allowed in JSON'],
    ['{"a" 1}', 'line 1, column 6: expected \':\' after the property name, found \'1\''],
    ['{"a": [1, 2', 'line 1, column 12: the file ends inside a list; a \']\' is missing'],
    ['{"a": "x\ny"}', 'line 1, column 9: a line break or control character inside a text value'],
    ['{"a": "\\q"}', 'line 1, column 8: \\q is not a valid escape'],
    ['{"a": "\\u12"}', 'line 1, column 8: \\u must be followed by four hexadecimal digits'],
    ['[1 2]', 'line 1, column 4: expected \',\' or \']\', found \'2\''],
    ['{"a": 01}', 'line 1, column 8: expected \',\' or \'}\', found \'1\''],
    ['{"a": -}', 'line 1, column 7: a number here is malformed'],
    ['{a: 1}', 'line 1, column 2: expected a property name in double quotes, found \'a\''],
    ['{"a": tru}', 'line 1, column 7: unexpected \'t\' where a value should be'],
    ['[1] [2]', 'line 1, column 5: unexpected text after the end of the JSON value'],
    ['{"a": "open', 'line 1, column 7: the file ends inside a text value that has no closing quote'],
    ['{"a":', 'line 1, column 6: the file ends where a value should be'],
  ])('says where %j is broken', (text, expected) => {
    expect(jsonError(text)).toContain(`The file is not valid JSON: ${expected}`);
  });

  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\ncd\nef', 6)).toEqual({ line: 3, column: 1 });
  });

  it('says an empty file is empty', () => {
    expect(jsonError('  \n')).toBe('The file is empty.');
  });

  it('ignores a byte-order mark', () => {
    expect(parseJson('\uFEFF{"a": [1, 2]}')).toEqual({ a: [1, 2] });
  });

  it('refuses nesting deeper than the limit, without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(jsonError(deep)).toMatch(/^The JSON nests deeper than 32 levels at \[0\]\[0\]/);
    expect(jsonError(`${'['.repeat(100_000)}`)).toContain('column 100001: the file ends where a value should be');
  });
});

describe('formatFloat32', () => {
  it('writes the shortest decimal, as numpy prints float32 and Python writes that number', () => {
    expect(floats.length).toBeGreaterThan(1000);
    const wrong = floats.filter((f) => formatFloat32(fromBits(f.bits)) !== f.python);
    expect(wrong.slice(0, 5).map((f) => [f.python, formatFloat32(fromBits(f.bits))])).toEqual([]);
  });

  it('reads back (through a double, as json.load and torch.tensor do) to the same float32', () => {
    for (const f of floats) {
      const x = fromBits(f.bits);
      expect(Math.fround(JSON.parse(formatFloat32(x)) as number)).toBe(x);
    }
  });

  it('writes zeros, NaN and the infinities as Python does', () => {
    expect(formatFloat32(0)).toBe('0.0');
    expect(formatFloat32(-0)).toBe('-0.0');
    expect(formatFloat32(NaN)).toBe('NaN');
    expect(formatFloat32(Infinity)).toBe('Infinity');
    expect(formatFloat32(-Infinity)).toBe('-Infinity');
  });
});

describe('stringifyDocument', () => {
  it('keeps rows of numbers and short objects on one line, and reads back to the same value', () => {
    const doc = { a: [[1, 2], [3, 4]], p: { x: 0, y: 1 }, s: ['a,b', 'c'], long: { text: 'x'.repeat(120) }, e: [] };
    const text = stringifyDocument(doc);
    expect(text).toContain('\n    [1, 2],\n    [3, 4]\n');
    expect(text).toContain('"p": {"x": 0, "y": 1}');
    expect(text).toContain('"s": ["a,b", "c"]');
    expect(text).toContain('"long": {\n    "text"');
    expect(JSON.parse(text)).toEqual(doc);
  });
});

describe('roundFloat32', () => {
  it('is the number Python writes for the float32 (powers of two and ties included)', () => {
    const wrong = floats.filter((f) => !Object.is(roundFloat32(fromBits(f.bits)), Number(f.python)));
    expect(wrong.slice(0, 5).map((f) => [f.python, roundFloat32(fromBits(f.bits))])).toEqual([]);
  });

  it('is the number formatFloat32 writes, across the float32 range', () => {
    const wrong: number[] = [];
    // Every 65,537th bit pattern: every exponent, signs, subnormals, and mantissas of every kind.
    for (let bits = 0; bits < 2 ** 32; bits += 65_537) {
      const x = fromBits(bits | 0);
      if (!Object.is(roundFloat32(x), Number(formatFloat32(x)))) wrong.push(x);
    }
    // Short decimals whose next digit is a 5 (two nearest decimals) and powers of two (the float32 below is nearer).
    for (let k = 1; k < 4096; k++) {
      for (const x of [k / 1024 + 0.0001220703125, k * 1024 + 0.25, 2 ** (k % 250 - 125)]) {
        if (!Object.is(roundFloat32(x), Number(formatFloat32(x)))) wrong.push(x);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(roundFloat32(0.1)).toBe(0.1);
    expect(Object.is(roundFloat32(-0), -0)).toBe(true);
    expect(roundFloat32(NaN)).toBeNaN();
  });
});
