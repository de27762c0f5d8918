import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { projectJsonSchema, projectJsonSchemaText } from '../../../engine/project/json_schema';
import { EXAMPLE_FILES, exampleDoc } from './helpers';

const committed = readFileSync(new URL('../../../assets/schema/project.schema.json', import.meta.url), 'utf8');
const validate = new Ajv({ allErrors: true }).compile(projectJsonSchema());

describe('the published JSON Schema', () => {
  it('is the one generated from the valibot schema (after a change to the format: npm run schema)', () => {
    expect(committed).toBe(projectJsonSchemaText());
  });

  it.each(EXAMPLE_FILES)('accepts the example %s', (file) => {
    expect(validate(exampleDoc(file)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects what the loader rejects: an unknown node type, text in a weight cell, a missing field', () => {
    const unknownType = exampleDoc('seed-tutorial.json');
    unknownType.nodes[2].type = 'Relu';
    const textCell = exampleDoc('seed-tutorial.json');
    textCell.nodes[1].tensors.weight[0][0] = '0.1';
    const missing = exampleDoc('xor.json');
    delete missing.training;
    const deepText = exampleDoc('autograd-demo.json');
    deepText.nodes[0].tensors.value = [[[1], ['x']]];
    for (const doc of [unknownType, textCell, missing, deepText]) expect(validate(doc)).toBe(false);
  });
});
