/**
 * The app's state beside the document: what is selected, what the engine said of the project
 * (problems, shapes), and the message line. Shared with every panel through Svelte context, so
 * the training view (renderer/training/) reads the same document and selection as the editor.
 */
import { getContext, setContext } from 'svelte';
import type { EngineClient, NestedNumbers, Problem, Summary } from '../../engine/protocol';
import { ProjectDocument } from './document.svelte';
import { EngineSync } from './engine.svelte';
import { TrainingRun } from './run.svelte';

export class Studio {
  readonly doc = new ProjectDocument();
  /** Selected node ids, in the order they were selected; the inspector shows the last. */
  selection: string[] = $state.raw([]);
  /** What the engine found wrong with the project as it is now; empty when it compiles. */
  problems: readonly Problem[] = $state.raw([]);
  /** Shapes of every node, from the engine's last look at the project. */
  summary: Summary | null = $state.raw(null);
  /** The weights training starts from, by state_dict key (those the seed draws included); null until the project compiles. */
  drawn: Record<string, NestedNumbers> | null = $state.raw(null);
  /** Whether the grids show each weight's gradient, and those gradients (dL/dw for the first sample), by state_dict key. */
  showGradients = $state(false);
  gradients: Record<string, NestedNumbers> | null = $state.raw(null);
  /** One sentence for the status bar: a refused connection, a paste that did not fit, a save. */
  message: { text: string; error: boolean } | null = $state(null);
  /** The engine host and the training run; null until the app has connected to the engine. */
  engine: EngineSync | null = $state.raw(null);
  run: TrainingRun | null = $state.raw(null);
  /** Set by the canvas: brings a node into view (a problem clicked in the list). */
  reveal: (id: string) => void = () => {};
  /** Set by the canvas: the View menu's zoom and fit. */
  view: Record<'zoomIn' | 'zoomOut' | 'zoomReset' | 'fit', () => void> = { zoomIn() {}, zoomOut() {}, zoomReset() {}, fit() {} };

  connect(client: EngineClient): void {
    this.engine = new EngineSync(this, client);
    this.run = new TrainingRun(this, this.engine);
  }

  get selectedNode() {
    const id = this.selection.at(-1);
    return id === undefined ? undefined : this.doc.project.nodes.find((n) => n.id === id);
  }

  select(ids: string[]): void {
    const same = ids.length === this.selection.length && ids.every((id, i) => id === this.selection[i]);
    if (!same) this.selection = ids;
  }

  say(text: string, error = false): void {
    this.message = { text, error };
  }

  problemsOf(id: string): Problem[] {
    return this.problems.filter((p) => p.node === id);
  }
}

const KEY = Symbol('studio');

export function provideStudio(studio: Studio): Studio {
  return setContext(KEY, studio);
}

/** The app's state, from any component inside the app. */
export function useStudio(): Studio {
  return getContext<Studio>(KEY);
}
