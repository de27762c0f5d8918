/**
 * Keeps the engine host looking at the project the user sees: every change that matters to the
 * model (not a node's position or the title) is sent with `open`, and the problems and shapes it
 * answers land in the Studio. Training runs on what was last sent, so a run never sees a half edit.
 */
import type { EngineClient, Problem, Project } from '../../engine/protocol';
import { rounded } from './run.svelte';
import type { Studio } from './studio.svelte';

/**
 * The part of a project the engine computes with: everything but where nodes are drawn, the words
 * around it and the expected values (the app adds those only for nodes that exist, so they
 * change no problem the engine finds, and typing one must not make it forget a finished run).
 */
function modelKey(project: Project): string {
  const { title: _t, description: _d, history: _h, expected: _e, ...rest } = project;
  return JSON.stringify({ ...rest, nodes: project.nodes.map(({ position: _p, ...n }) => n) });
}

export class EngineSync {
  /** The project the engine holds now. */
  #sent: string | null = null;
  /** Opens go one after another, so answers arrive in the order the edits were made. */
  #queue: Promise<unknown> = Promise.resolve();
  /** False while training runs: the project is sent when it ends. */
  #live = true;
  /** Set while the engine holds a finished run (adopt): its epochs can be traced until the project is opened again. */
  #adopted = false;
  /** Set when the engine could not be reached; the status bar says so. */
  device: string | null = $state(null);

  constructor(
    private readonly studio: Studio,
    readonly client: EngineClient,
  ) {}

  /** Sends the project if the model in it changed; resolves when the engine has answered. */
  update(project: Project = this.studio.doc.project): Promise<unknown> {
    if (!this.#live) return this.#queue;
    const key = modelKey(project);
    if (key === this.#sent) return this.#queue;
    this.#sent = key;
    this.#adopted = false;
    this.#queue = this.#queue.then(async () => {
      try {
        const opened = await this.client.open(project);
        if (this.#sent !== key) return; // a newer edit is on its way
        this.studio.problems = opened.problems;
        this.studio.summary = opened.summary;
        this.device = opened.device.adapter ?? opened.device.backend;
        await this.#lookInside(project, opened.problems.length === 0, key);
      } catch (e) {
        this.studio.problems = [{ message: `The engine could not look at the project: ${(e as Error).message}` }];
      }
    });
    return this.#queue;
  }

  /**
   * For a project that compiles: the weights training starts from (what the grid shows for
   * tensors the seed draws) and, when asked for, each weight's gradient for the first sample.
   */
  async #lookInside(project: Project, compiles: boolean, key: string): Promise<void> {
    if (!compiles) {
      this.studio.drawn = null;
      this.studio.gradients = null;
      return;
    }
    const initial = await this.client.reset();
    if (this.#sent !== key) return;
    this.studio.drawn = Object.fromEntries(Object.entries(initial.weights).map(([k, w]) => [k, rounded(w)]));
    if (!this.studio.showGradients) return;
    const trace = await this.client.trace(0);
    if (this.#sent !== key) return;
    this.studio.gradients = Object.fromEntries(trace.parameters.flatMap((p) => (p.grad === null ? [] : [[p.name, p.grad]])));
  }

  /** Shows (or hides) the gradients beside the weights; asks the engine for them now. */
  async showGradients(on: boolean): Promise<void> {
    this.studio.showGradients = on;
    if (!on) {
      this.studio.gradients = null;
      return;
    }
    if (!this.#live || this.#sent === null) return;
    const key = this.#sent;
    this.#queue = this.#queue.then(() => this.#lookInside(this.studio.doc.project, this.studio.problems.length === 0, key)).catch((e) => {
      this.studio.say(`The engine could not compute the gradients: ${(e as Error).message}`, true);
    });
    await this.#queue;
  }

  /**
   * The problems `project` would have, without keeping it: how the editor asks the engine
   * whether a new edge fits before making it. The engine goes back to the current project after.
   */
  async problemsOf(project: Project): Promise<readonly Problem[]> {
    await this.update(project);
    const problems = this.studio.problems;
    return problems;
  }

  /**
   * Says the engine holds `project` already (a run's trained weights): an update to it sends
   * nothing, so the engine keeps the run's history and can still trace its earlier epochs.
   */
  adopt(project: Project): void {
    this.#sent = modelKey(project);
    this.#adopted = true;
  }

  /** Before a new run: opens the project again if the engine holds a finished run, so epochs count from 1 again. */
  renew(): Promise<unknown> {
    if (this.#adopted) this.#sent = null;
    return this.update();
  }

  /** While training runs, edits wait; afterwards the engine gets the project as it is then. */
  hold(): void {
    this.#live = false;
  }

  release(): Promise<unknown> {
    this.#live = true;
    return this.update();
  }
}
