import { currentStep, type QueryAnswer, type TaskDefinition } from '#lib/core/tracker/index.ts';
import type { TaskSession } from '#lib/db/index.ts';
import { prepareEmbedder } from '#lib/services/embedder.service.ts';
import { attempt, type UserError } from '#lib/services/handle-error.ts';
import {
  askTask,
  command,
  latestSession,
  observeTask,
  readTaskFile,
  sampleTasks,
  startSession,
  type StepCommand
} from '#lib/services/task.service.ts';
import { modelsStore } from './models-store.svelte.ts';

class TaskStore {
  tasks = $state.raw<TaskDefinition[]>([]);
  session = $state.raw<TaskSession | null>(null);
  answer = $state.raw<QueryAnswer | null>(null);
  error = $state<UserError | null>(null);
  /** The sample tasks and the last session are loaded (before that, nothing can be started). */
  ready = $state(false);
  current = $derived(this.session ? currentStep(this.session.state) : null);
  /** Whether camera observations can move the task on (needs an installed embedding model). */
  following = $derived(!!modelsStore.embeddingModel && modelsStore.isInstalled(modelsStore.embeddingModel.id));

  async init(): Promise<void> {
    await this.#try(async () => {
      const [tasks, session] = await Promise.all([sampleTasks(), latestSession()]);
      this.tasks = tasks;
      this.session = session;
    });
    this.ready = true;
  }

  async start(definition: TaskDefinition): Promise<void> {
    await this.#try(async () => {
      this.session = await startSession(definition);
      this.answer = null;
    });
  }

  async importFile(file: File): Promise<void> {
    await this.#try(async () => {
      const definition = await readTaskFile(file);
      this.tasks = [...this.tasks.filter((t) => t.id !== definition.id), definition];
      await this.start(definition);
    });
  }

  async move(which: StepCommand): Promise<void> {
    const session = this.session;
    if (session) {
      await this.#try(async () => {
        this.session = await command(session, which);
      });
    }
  }

  async ask(question: string): Promise<void> {
    const session = this.session;
    if (session && question.trim()) {
      await this.#try(async () => {
        const result = await askTask(session, question);
        this.session = result.session;
        this.answer = result.answer;
      });
    }
  }

  /** The fast loop: every answer the camera assistant gives is an observation of the task. */
  async observe(text: string): Promise<void> {
    const session = this.session;
    const model = modelsStore.embeddingModel;
    if (!session || !model || !this.following || !text.trim()) {
      return;
    }
    await this.#try(async () => {
      const embedder = await prepareEmbedder(model, modelsStore.settings, () => undefined);
      const next = await observeTask(session, text, embedder);
      // A command the user gave meanwhile wins over the observation that raced it.
      if (this.session === session) {
        this.session = next;
      }
    });
  }

  async #try(work: () => Promise<void>): Promise<void> {
    this.error = null;
    // Only a failure sets it: another action that finished meanwhile must not wipe this one's error.
    this.error = (await attempt(work)) ?? this.error;
  }
}

export const taskStore = new TaskStore();
