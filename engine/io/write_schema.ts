// Writes assets/schema/project.schema.json from the valibot schema (npm run schema).
import { writeFileSync } from 'node:fs';
import { projectJsonSchemaText } from '../project/json_schema';

const path = new URL('../../assets/schema/project.schema.json', import.meta.url);
writeFileSync(path, projectJsonSchemaText());
console.log(`wrote ${path.pathname}`);
