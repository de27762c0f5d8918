/** The examples gallery: the projects in assets/examples, bundled with the app. */
import type { Project } from '../../engine/protocol';
import { readProject } from './files';

const files = import.meta.glob<string>('../../assets/examples/*.json', { eager: true, query: '?raw', import: 'default' });

export interface Example {
  file: string;
  project: Project;
}

/** Every example that loads (a broken one would be a bug, caught by the examples' own tests). */
export const EXAMPLES: readonly Example[] = Object.entries(files)
  .map(([path, text]) => ({ file: path.split('/').at(-1) as string, result: readProject(text) }))
  .flatMap(({ file, result }) => ('project' in result ? [{ file, project: result.project }] : []))
  .sort((a, b) => order(a.file) - order(b.file));

/** The seed tutorial first, as the place to start. */
function order(file: string): number {
  const first = ['seed-tutorial.json', 'seed-tutorial-adam-once.json', 'autograd-demo.json', 'xor.json', 'iris.json'];
  const i = first.indexOf(file);
  return i < 0 ? first.length : i;
}
