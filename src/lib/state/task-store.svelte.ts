import { EngineBusyError } from '#lib/core/errors.ts';
import { GROUNDED_ANSWER_MAX_TOKENS, groundedPrompt } from '#lib/core/grounded-answer.ts';
import type { Unsubscribe } from '#lib/core/event-bus.ts';
import {
  currentStep,
  taskContext,
  type CurrentStep,
  type QueryAnswer,
  type TaskDefinition
} from '#lib/core/tracker/index.ts';
import type { TaskSession } from '#lib/db/index.ts';
import { prepareEmbedder } from '#lib/services/embedder.service.ts';
import { appEvents } from '#lib/services/app-events.ts';
import { deviceTextGenerator, engineStatus } from '#lib/services/engine.service.ts';
import type { UserError } from '#lib/services/handle-error.ts';
import type { SearchHit } from '#lib/services/knowledge-search.service.ts';
import {
  askTask,
  command,
  endSession,
  latestSession,
  observeTask,
  readTaskFile,
  reopenSession,
  sampleTasks,
  startSession,
  type StepCommand
} from '#lib/services/task.service.ts';
import { ErrorSlot } from './error-slot.svelte.ts';
import { modelsStore } from './models-store.svelte.ts';
import { toasts } from './toasts.svelte.ts';

/** A question about the task and the answer the task state gave it. */
export interface TaskReply {
  question: string;
  answer: QueryAnswer;
}

class TaskStore {
  #tasks = $state.raw<TaskDefinition[]>([]);
  #session = $state.raw<TaskSession | null>(null);
  #chosen = $state('');
  #reply = $state.raw<TaskReply | null>(null);
  #fallback = $state<{ text: string; hits: SearchHit[]; question: string; done: boolean } | null>(null);
  #ready = $state(false);
  #current = $derived(this.#session ? currentStep(this.#session.state) : null);
  #following = $derived(!!modelsStore.embeddingModel && modelsStore.isInstalled(modelsStore.embeddingModel.id));
  #errors = new ErrorSlot('Task guide');
  #writing: AbortController | null = null;

  get tasks(): TaskDefinition[] {
    return this.#tasks;
  }
  get session(): TaskSession | null {
    return this.#session;
  }
  /** The task picked in the list: the running one, also once it was resumed after a reload. */
  get chosen(): string {
    return this.#chosen;
  }
  /** The last question asked, with the task state's answer. */
  get reply(): TaskReply | null {
    return this.#reply;
  }
  /**
   * The model's answer to a question the templates were unsure of (`needs_fallback`), streamed,
   * with the knowledge-base passages it was given.
   */
  get fallback(): { text: string; hits: SearchHit[]; question: string; done: boolean } | null {
    return this.#fallback;
  }
  get error(): UserError | null {
    return this.#errors.current;
  }
  /** The sample tasks and the last session are loaded (before that, nothing can be started). */
  get ready(): boolean {
    return this.#ready;
  }
  get current(): CurrentStep | null {
    return this.#current;
  }
  /** Whether camera observations can move the task on (needs an installed embedding model). */
  get following(): boolean {
    return this.#following;
  }

  async init(): Promise<void> {
    await this.#errors.run(async () => {
      const [tasks, session] = await Promise.all([sampleTasks(), latestSession()]);
      // A resumed task that came from a file is not among the samples, yet the list must show it.
      const resumed = session && !tasks.some((t) => t.id === session.taskId) ? [session.definition] : [];
      this.#tasks = [...tasks, ...resumed];
      this.#session = session;
      this.#chosen = session?.taskId ?? '';
    });
    this.#ready = true;
  }

  choose(taskId: string): void {
    this.#chosen = taskId;
  }

  async start(definition: TaskDefinition): Promise<void> {
    await this.#errors.run(async () => {
      this.#stopModel();
      this.#session = await startSession(definition);
      this.#chosen = definition.id;
    });
  }

  /** Ends the task: the guide lets it go and does not resume it; a toast offers it back. */
  async end(): Promise<void> {
    const session = this.#session;
    if (session) {
      await this.#errors.run(async () => {
        await endSession(session);
        this.#stopModel();
        this.#session = null;
        toasts.show(`Ended “${session.definition.title}”`, {
          action: { label: 'Undo', run: () => this.#reopen(session) }
        });
      });
    }
  }

  async #reopen(session: TaskSession): Promise<void> {
    await this.#errors.run(async () => {
      this.#session = await reopenSession(session);
      this.#chosen = session.taskId;
    });
  }

  /** What belonged to the task that goes: its answers, and a model still asked about it. */
  #stopModel(): void {
    this.#writing?.abort();
    this.#reply = null;
    this.#fallback = null;
  }

  async importFile(file: File): Promise<void> {
    await this.#errors.run(async () => {
      const definition = await readTaskFile(file);
      this.#tasks = [...this.#tasks.filter((t) => t.id !== definition.id), definition];
      await this.start(definition);
    });
  }

  async move(which: StepCommand): Promise<void> {
    const session = this.#session;
    if (session) {
      await this.#errors.run(async () => {
        this.#session = await command(session, which);
      });
    }
  }

  /**
   * Answers from the task state in milliseconds; when that answer is unsure, asks the
   * vision-language model too, with the task, the best passages of the knowledge bases and
   * (from `grabFrame`, when the camera is on) what the camera sees.
   */
  async ask(question: string, grabFrame?: () => Promise<ImageBitmap | null>): Promise<void> {
    const session = this.#session;
    if (session && question.trim()) {
      await this.#errors.run(async () => {
        const result = await askTask(session, question);
        this.#session = result.session;
        this.#reply = { question, answer: result.answer };
        this.#fallback = null;
        // While another answer is being written the template answer stands alone: no waiting on it.
        if (result.answer.needs_fallback && modelsStore.canAnswer && engineStatus().phase === 'idle') {
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
    const writing = new AbortController();
    this.#fallback = fallback;
    this.#writing = writing;
    try {
      // Loaded on the first unsure answer, not with the camera page: search (BM25, HNSW, vector
      // blocks) is about a sixth of that page's JavaScript and no first paint needs it.
      const { passageOf, searchAllBases } = await import('#lib/services/knowledge-search.service.ts');
      const step = session.definition.steps[session.state.current];
      fallback.hits = this.following
        ? await searchAllBases(`${step?.title ?? ''}: ${question}`, await this.#embedder(), {
            minCosine: modelsStore.settings.minRelevance,
            annMinVectors: modelsStore.settings.annMinVectors
          })
        : [];
      const prompt = groundedPrompt(question, fallback.hits.map(passageOf), {
        context: taskContext(session.definition, session.state)
      });
      // A camera that cannot give a frame right now only costs the answer its picture.
      const frame = grabFrame ? await grabFrame().catch(() => null) : null;
      this.#fallback = { ...fallback };
      const content = frame
        ? [
            { type: 'image' as const, image: frame },
            { type: 'text' as const, text: prompt }
          ]
        : prompt;
      const onToken = (token: string) => {
        if (this.#fallback?.question === question) {
          this.#fallback.text += token;
        }
      };
      const { stats } = await deviceTextGenerator(modelsStore.requireVisionModel(), modelsStore.settings, {
        holder: 'The task guide'
      })
        .generate(
          { messages: [{ role: 'user', content }], max_tokens: GROUNDED_ANSWER_MAX_TOKENS },
          onToken,
          writing.signal
        )
        .catch((error: unknown) => {
          frame?.close();
          throw error;
        });
      if (this.#fallback?.question === question) {
        this.#fallback = { ...fallback, text: stats.text, done: true };
      }
    } catch (error) {
      this.#fallback = null;
      // Another answer took the engine while the passages were found: the template answer stands alone.
      if (!(error instanceof EngineBusyError)) {
        throw error;
      }
    } finally {
      // A newer question may have taken the slot meanwhile; its controller stays.
      if (this.#writing === writing) {
        this.#writing = null;
      }
    }
  }

  /**
   * Follows the scene: every answer the camera assistant gives from now on is an observation of
   * the task, until the returned function is called.
   */
  followAssistant(): Unsubscribe {
    return appEvents.on('assistant:answer', ({ text }) => void this.observe(text));
  }

  dismissError(): void {
    this.#errors.dismiss();
  }

  /** The fast loop: every answer the camera assistant gives is an observation of the task. */
  async observe(text: string): Promise<void> {
    const session = this.#session;
    const model = modelsStore.embeddingModel;
    if (!session || !model || !this.following || !text.trim()) {
      return;
    }
    await this.#errors.run(async () => {
      const next = await observeTask(session, text, await this.#embedder());
      // A command the user gave meanwhile wins over the observation that raced it.
      if (this.#session === session) {
        this.#session = next;
      }
    });
  }

  #embedder() {
    const model = modelsStore.embeddingModel!;
    return prepareEmbedder(model, modelsStore.settings, () => undefined);
  }
}

export const taskStore = new TaskStore();
