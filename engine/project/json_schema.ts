/** The project format as JSON Schema (draft-07), generated from the valibot schema it is checked with. */
import { toJsonSchema } from '@valibot/to-json-schema';
import { CURRENT_VERSION, NestedNumbers, ProjectSchema } from './schema';

export function projectJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(ProjectSchema, {
    definitions: { NestedNumbers },
    // JSON has no NaN or infinities, so "finite" needs no counterpart in JSON Schema.
    ignoreActions: ['finite'],
  });
  return {
    $schema: schema.$schema,
    title: `Backprop Studio project, format version ${CURRENT_VERSION}`,
    description: 'A network as a graph, its weights, data and training settings. See docs/project-format.md.',
    ...schema,
  };
}

/** The text of assets/schema/project.schema.json. */
export function projectJsonSchemaText(): string {
  return `${JSON.stringify(projectJsonSchema(), null, 2)}\n`;
}
