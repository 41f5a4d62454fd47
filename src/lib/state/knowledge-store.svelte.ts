import type { Embedder } from '#lib/core/embedder.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import { GROUNDED_ANSWER_MAX_TOKENS, groundedPrompt } from '#lib/core/grounded-answer.ts';
import type { GenerationStats } from '#lib/core/engine-types.ts';
import type { KnowledgeBase, KnowledgeDocument } from '#lib/db/index.ts';
import { appEvents } from '#lib/services/app-events.ts';
import { prepareEmbedder } from '#lib/services/embedder.service.ts';
import { deviceTextGenerator } from '#lib/services/engine.service.ts';
import type { UserError } from '#lib/services/handle-error.ts';
import {
  baseNameProblem,
  createBase,
  deleteBase,
  deleteDocument,
  importDocument,
  listBases,
  listDocuments,
  renameBase,
  type ImportProgress
} from '#lib/services/knowledge-documents.service.ts';
import { reembedMissing } from '#lib/services/knowledge-reembed.service.ts';
import { passageOf, search, type SearchHit } from '#lib/services/knowledge-search.service.ts';
import { ErrorSlot } from './error-slot.svelte.ts';
import { modelsStore } from './models-store.svelte.ts';
import { toasts } from './toasts.svelte.ts';

/** Which base-name field a name problem belongs to, so it shows next to it. */
export type NameField = 'create' | 'rename';

class KnowledgeStore {
  #bases = $state.raw<KnowledgeBase[]>([]);
  #baseId = $state<number | null>(null);
  #documents = $state.raw<KnowledgeDocument[]>([]);
  #importing = $state<{ name: string; progress: ImportProgress } | null>(null);
  #hits = $state.raw<SearchHit[] | null>(null);
  #asked = $state('');
  #searching = $state(false);
  #written = $state<{ text: string; stats: GenerationStats | null } | null>(null);
  #notice = $state<string | null>(null);
  #reembedding = $state<{ done: number; total: number } | null>(null);
  #indexing = $state<{ done: number; total: number } | null>(null);
  #nameError = $state<{ field: NameField; message: string } | null>(null);
  #loaded = $state(false);
  #errors = new ErrorSlot('Knowledge');
  #cancel: AbortController | null = null;
  #writing: AbortController | null = null;
  #preparing: Promise<Embedder> | null = null;

  /** The bases and the chosen one's documents have been read once (the page shows nothing before). */
  get loaded(): boolean {
    return this.#loaded;
  }
  get bases(): KnowledgeBase[] {
    return this.#bases;
  }
  get baseId(): number | null {
    return this.#baseId;
  }
  get documents(): KnowledgeDocument[] {
    return this.#documents;
  }
  /** The file being imported now and how far it got. */
  get importing(): { name: string; progress: ImportProgress } | null {
    return this.#importing;
  }
  /** Search results; null before the first search of a base. */
  get hits(): SearchHit[] | null {
    return this.#hits;
  }
  /** The question the hits are for: the answer is written for it, not for what the box says now. */
  get asked(): string {
    return this.#asked;
  }
  get searching(): boolean {
    return this.#searching;
  }
  /** The model's answer over the hits, streamed as it is written; null until the user asks for one. */
  get written(): { text: string; stats: GenerationStats | null } | null {
    return this.#written;
  }
  get error(): UserError | null {
    return this.#errors.current;
  }
  get notice(): string | null {
    return this.#notice;
  }
  /** Documents being embedded with a newly chosen embedding model, in the background. */
  get reembedding(): { done: number; total: number } | null {
    return this.#reembedding;
  }
  /** A large base's fast-search index being brought up to date in the background. */
  get indexing(): { done: number; total: number } | null {
    return this.#indexing;
  }
  /** Why the name typed for a new or renamed base cannot be used. */
  get nameError(): { field: NameField; message: string } | null {
    return this.#nameError;
  }
  get base(): KnowledgeBase | null {
    return this.#bases.find((base) => base.id === this.#baseId) ?? null;
  }
  constructor() {
    appEvents.on('engine:fallback', ({ engine, reason }) => {
      if (engine === 'embed') {
        this.#notice = reason;
      }
    });
    appEvents.on('knowledge:graph', ({ baseId, progress, error }) => {
      if (baseId !== this.#baseId) {
        return;
      }
      this.#indexing = progress;
      if (error) {
        this.#notice = `The fast-search index could not be updated (${error}); searches stay exact, only slower.`;
      }
    });
  }

  async init(): Promise<void> {
    this.#bases = await listBases();
    await this.select(this.#baseId ?? this.#bases[0]?.id ?? null);
    this.#loaded = true;
    // The model's first load (its runtime compiled, its session built) is most of a first import
    // or search: it starts while the user picks a file or types, and a failure shows on use.
    if (modelsStore.embeddingModel && modelsStore.isInstalled(modelsStore.embeddingModel.id)) {
      void this.#embedder().catch(() => undefined);
    }
  }

  async select(baseId: number | null): Promise<void> {
    this.#baseId = baseId;
    this.#stopAnswer();
    this.#hits = null;
    this.#indexing = null;
    this.#nameError = null;
    this.#documents = baseId === null ? [] : await listDocuments(baseId);
    void this.#catchUp();
  }

  /**
   * Gives every document of the base vectors from the current embedding model (after the user
   * chose another one). Searches meanwhile cover only documents that have them.
   */
  async #catchUp(): Promise<void> {
    const baseId = this.#baseId;
    const model = modelsStore.embeddingModel;
    if (
      baseId === null ||
      this.#reembedding ||
      !model ||
      !modelsStore.isInstalled(model.id) ||
      !this.#documents.length
    ) {
      return;
    }
    await this.#errors.run(async () => {
      try {
        await reembedMissing(baseId, await this.#embedder(), {
          annMinVectors: modelsStore.settings.annMinVectors,
          onProgress: (progress) => {
            this.#reembedding = progress.done < progress.total ? progress : null;
          }
        });
      } finally {
        this.#reembedding = null;
      }
    });
  }

  /** Creates a base and selects it; false when the name is refused (see `nameError`) or it failed. */
  async create(name: string): Promise<boolean> {
    if (this.#refuseName('create', name)) {
      return false;
    }
    return this.#errors.run(async () => {
      const id = await createBase(name);
      this.#bases = await listBases();
      await this.select(id);
    });
  }

  /** Renames the selected base; false when the name is refused (see `nameError`) or it failed. */
  async rename(name: string): Promise<boolean> {
    const baseId = this.#baseId;
    if (baseId === null || this.#refuseName('rename', name, baseId)) {
      return false;
    }
    return this.#errors.run(async () => {
      await renameBase(baseId, name);
      this.#bases = await listBases();
    });
  }

  clearNameError(): void {
    this.#nameError = null;
  }

  /** Deletes the selected base with all its documents; the notice offers Undo. */
  async removeBase(): Promise<void> {
    const base = this.base;
    if (!base || this.#importing) {
      return;
    }
    await this.#errors.run(async () => {
      const undo = await deleteBase(base.id!);
      this.#bases = await listBases();
      await this.select(this.#bases[0]?.id ?? null);
      toasts.show(`Knowledge base "${base.name}" deleted`, {
        action: {
          label: 'Undo',
          run: () =>
            this.#errors.run(async () => {
              await undo();
              this.#bases = await listBases();
              await this.select(base.id!);
            })
        }
      });
    });
  }

  /** Shows why `name` cannot be used in `field`; true when it cannot. */
  #refuseName(field: NameField, name: string, exceptId?: number): boolean {
    const message = baseNameProblem(name, this.#bases, exceptId);
    this.#nameError = message ? { field, message } : null;
    return message !== null;
  }

  /** Imports files one after another; a bad file is reported and the next one still goes in. */
  async importFiles(files: File[]): Promise<void> {
    const baseId = this.#baseId;
    if (baseId === null || this.#importing) {
      return;
    }
    this.#cancel = new AbortController();
    const { signal } = this.#cancel;
    try {
      for (const file of files) {
        if (signal.aborted) {
          break;
        }
        this.#importing = { name: file.name, progress: { phase: 'reading', done: 0, total: 1 } };
        await this.#errors.run(async () => {
          const embedder = this.#embedder();
          // Its failure is the import's, reported once the file is read.
          embedder.catch(() => undefined);
          await importDocument(baseId, file, embedder, {
            annMinVectors: modelsStore.settings.annMinVectors,
            onProgress: (progress) => (this.#importing = { name: file.name, progress }),
            signal
          });
        });
        this.#documents = await listDocuments(baseId);
      }
    } finally {
      this.#importing = null;
      this.#cancel = null;
    }
  }

  dismissError(): void {
    this.#errors.dismiss();
  }

  cancelImport(): void {
    this.#cancel?.abort();
  }

  /** Deletes a document; the notice offers Undo, which puts it back in its base. */
  async remove(document: KnowledgeDocument): Promise<void> {
    await this.#errors.run(async () => {
      const undo = await deleteDocument(document.id!, { annMinVectors: modelsStore.settings.annMinVectors });
      this.#stopAnswer();
      this.#hits = null;
      this.#documents = await listDocuments(document.baseId);
      toasts.show(`"${document.name}" deleted`, {
        action: {
          label: 'Undo',
          run: () =>
            this.#errors.run(async () => {
              await undo();
              if (this.#baseId === document.baseId) {
                this.#documents = await listDocuments(document.baseId);
              }
            })
        }
      });
    });
  }

  /** Whether answers are written by the model (installed) or search is retrieval only. */
  get writesAnswers(): boolean {
    return modelsStore.canAnswer;
  }

  /**
   * Finds the passages for `question`, best first. A new search ends the answer being written
   * for the previous one: it would cite passages no longer shown.
   */
  async search(question: string): Promise<void> {
    const baseId = this.#baseId;
    if (baseId === null || !question.trim() || this.#searching) {
      return;
    }
    this.#searching = true;
    this.#stopAnswer();
    try {
      await this.#errors.run(async () => {
        const embedder = await this.#embedder();
        const started = performance.now();
        const hits = await search(baseId, question, embedder, {
          minCosine: modelsStore.settings.minRelevance,
          annMinVectors: modelsStore.settings.annMinVectors
        });
        appEvents.emit('perf:sample', {
          metric: 'search-ms',
          value: performance.now() - started,
          model: modelsStore.embeddingModel?.name
        });
        this.#asked = question;
        this.#hits = hits;
      });
    } finally {
      this.#searching = false;
    }
  }

  /**
   * Has the vision-language model write an answer from the hits, with numbered citations; only on
   * request, as it takes the device seconds that a look at the passages often makes unneeded.
   * With no relevant passage nothing is written: "no relevant passage" beats a guess.
   */
  async writeAnswer(): Promise<void> {
    const hits = this.#hits;
    if (!hits?.length || !this.writesAnswers || this.#writing) {
      return;
    }
    const writing = new AbortController();
    this.#writing = writing;
    this.#written = { text: '', stats: null };
    try {
      await this.#errors.run(async () => {
        const { stats } = await deviceTextGenerator(modelsStore.requireVisionModel(), modelsStore.settings, {
          holder: 'The knowledge base'
        }).generate(
          {
            messages: [{ role: 'user', content: groundedPrompt(this.#asked, hits.map(passageOf)) }],
            max_tokens: GROUNDED_ANSWER_MAX_TOKENS
          },
          (token) => {
            if (this.#writing === writing && this.#written) {
              this.#written.text += token;
            }
          },
          writing.signal
        );
        if (this.#writing === writing) {
          this.#written = { text: stats.text, stats };
        }
      });
    } finally {
      if (this.#writing === writing) {
        this.#writing = null;
        this.#dropEmptyAnswer();
      }
    }
  }

  /** A failed answer leaves the passages; an empty answer box would only confuse. */
  #dropEmptyAnswer(): void {
    if (this.#written && !this.#written.stats && !this.#written.text) {
      this.#written = null;
    }
  }

  /** Stops the answer being written; what was written so far stays. */
  stopWriting(): void {
    this.#writing?.abort();
  }

  /** Ends and removes the answer: the passages it was written from are going away. */
  #stopAnswer(): void {
    this.#writing?.abort();
    this.#writing = null;
    this.#written = null;
  }

  /** The embedding model, ready in its worker; concurrent callers share one load. */
  #embedder(): Promise<Embedder> {
    this.#preparing ??= this.#prepare().finally(() => (this.#preparing = null));
    return this.#preparing;
  }

  async #prepare(): Promise<Embedder> {
    const model = modelsStore.embeddingModel;
    if (!model || !modelsStore.isInstalled(model.id)) {
      throw new ModelNotInstalledError(
        'Install an embedding model first: documents are searched by meaning on this device.'
      );
    }
    return prepareEmbedder(model, modelsStore.settings, () => undefined);
  }
}

export const knowledgeStore = new KnowledgeStore();
