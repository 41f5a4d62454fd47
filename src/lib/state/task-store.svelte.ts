import { groundedPrompt } from '#lib/core/grounded-answer.ts';
import { currentStep, taskContext, type QueryAnswer, type TaskDefinition } from '#lib/core/tracker/index.ts';
import type { TaskSession } from '#lib/db/index.ts';
import { prepareEmbedder } from '#lib/services/embedder.service.ts';
import { attempt, type UserError } from '#lib/services/handle-error.ts';
import { passageOf, searchAllBases, type SearchHit } from '#lib/services/knowledge-search.service.ts';
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
import { assistantStore } from './assistant-store.svelte.ts';
import { modelsStore } from './models-store.svelte.ts';

class TaskStore {
  tasks = $state.raw<TaskDefinition[]>([]);
  session = $state.raw<TaskSession | null>(null);
  answer = $state.raw<QueryAnswer | null>(null);
  /**
   * The model's answer to a question the templates were unsure of (`needs_fallback`), streamed,
   * with the knowledge-base passages it was given.
   */
  fallback = $state<{ text: string; hits: SearchHit[]; question: string; done: boolean } | null>(null);
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

  /**
   * Answers from the task state in milliseconds; when that answer is unsure, asks the
   * vision-language model too, with the task, the best passages of the knowledge bases and
   * (from `grabFrame`, when the camera is on) what the camera sees.
   */
  async ask(question: string, grabFrame?: () => Promise<ImageBitmap | null>): Promise<void> {
    const session = this.session;
    if (session && question.trim()) {
      await this.#try(async () => {
        const result = await askTask(session, question);
        this.session = result.session;
        this.answer = result.answer;
        this.fallback = null;
        if (result.answer.needs_fallback && assistantStore.canAnswer && !assistantStore.busy) {
          await this.#askModel(question, result.session, grabFrame);
        }
      });
    }
  }

  async #askModel(
    question: string,
    session: TaskSession,
    grabFrame?: () => Promise<ImageBitmap | null>
  ): Promise<void> {
    const fallback = { text: '', hits: [] as SearchHit[], question, done: false };
    this.fallback = fallback;
    try {
      const step = session.definition.steps[session.state.current];
      fallback.hits = this.following
        ? await searchAllBases(`${step?.title ?? ''}: ${question}`, await this.#embedder(), {
            minCosine: modelsStore.settings.minRelevance
          })
        : [];
      const prompt = groundedPrompt(question, fallback.hits.map(passageOf), {
        context: taskContext(session.definition, session.state)
      });
      // A camera that cannot give a frame right now only costs the answer its picture.
      const frame = grabFrame ? await grabFrame().catch(() => null) : null;
      this.fallback = { ...fallback };
      const stats = await assistantStore.compose(prompt, frame, (token) => {
        if (this.fallback?.question === question) {
          this.fallback.text += token;
        }
      });
      if (this.fallback?.question === question) {
        this.fallback = { ...fallback, text: stats.text, done: true };
      }
    } catch (error) {
      this.fallback = null;
      throw error;
    }
  }

  /** Stops the model's answer; what it wrote so far stays. */
  stopAnswer(): void {
    assistantStore.stop();
  }

  /** The fast loop: every answer the camera assistant gives is an observation of the task. */
  async observe(text: string): Promise<void> {
    const session = this.session;
    const model = modelsStore.embeddingModel;
    if (!session || !model || !this.following || !text.trim()) {
      return;
    }
    await this.#try(async () => {
      const next = await observeTask(session, text, await this.#embedder());
      // A command the user gave meanwhile wins over the observation that raced it.
      if (this.session === session) {
        this.session = next;
      }
    });
  }

  #embedder() {
    const model = modelsStore.embeddingModel!;
    return prepareEmbedder(model, modelsStore.settings, () => undefined);
  }

  async #try(work: () => Promise<void>): Promise<void> {
    this.error = null;
    // Only a failure sets it: another action that finished meanwhile must not wipe this one's error.
    this.error = (await attempt(work)) ?? this.error;
  }
}

export const taskStore = new TaskStore();
