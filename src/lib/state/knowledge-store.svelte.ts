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
  createBase,
  deleteDocument,
  importDocument,
  listBases,
  listDocuments,
  type ImportProgress
} from '#lib/services/knowledge-documents.service.ts';
import { reembedMissing } from '#lib/services/knowledge-reembed.service.ts';
import { passageOf, search, type SearchHit } from '#lib/services/knowledge-search.service.ts';
import { ErrorSlot } from './error-slot.svelte.ts';
import { modelsStore } from './models-store.svelte.ts';

class KnowledgeStore {
  #bases = $state.raw<KnowledgeBase[]>([]);
  #baseId = $state<number | null>(null);
  #documents = $state.raw<KnowledgeDocument[]>([]);
  #importing = $state<{ name: string; progress: ImportProgress } | null>(null);
  #hits = $state.raw<SearchHit[] | null>(null);
  #searching = $state(false);
  #written = $state<{ text: string; stats: GenerationStats | null } | null>(null);
  #notice = $state<string | null>(null);
  #reembedding = $state<{ done: number; total: number } | null>(null);
  #indexing = $state<{ done: number; total: number } | null>(null);
  #removed = $state.raw<{ name: string; undo: () => Promise<void> } | null>(null);
  #loaded = $state(false);
  #errors = new ErrorSlot('Knowledge');
  #cancel: AbortController | null = null;
  #writing: AbortController | null = null;

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
  get searching(): boolean {
    return this.#searching;
  }
  /** The model's answer over the hits, streamed as it is written; null when search is retrieval only. */
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
  /** The last deleted document, until the user undoes it or deletes another. */
  get removed(): { name: string; undo: () => Promise<void> } | null {
    return this.#removed;
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
  }

  async select(baseId: number | null): Promise<void> {
    this.#baseId = baseId;
    this.#hits = null;
    this.#written = null;
    this.#indexing = null;
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

  async create(name: string): Promise<void> {
    await this.#errors.run(async () => {
      const id = await createBase(name);
      this.#bases = await listBases();
      await this.select(id);
    });
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
          const embedder = await this.#embedder();
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

  async remove(document: KnowledgeDocument): Promise<void> {
    await this.#errors.run(async () => {
      const undo = await deleteDocument(document.id!, { annMinVectors: modelsStore.settings.annMinVectors });
      this.#removed = { name: document.name, undo };
      this.#hits = null;
      this.#documents = await listDocuments(document.baseId);
    });
  }

  async undoRemove(): Promise<void> {
    const removed = this.#removed;
    this.#removed = null;
    if (removed && this.#baseId !== null) {
      await removed.undo();
      this.#documents = await listDocuments(this.#baseId);
    }
  }

  /** Whether answers are written by the model (installed) or search is retrieval only. */
  get writesAnswers(): boolean {
    return modelsStore.canAnswer;
  }

  /**
   * Finds the passages for `question`, then, when a vision-language model is installed, has it
   * write an answer from them with numbered citations. With no relevant passage nothing is
   * written: "no relevant passage" beats a guess.
   */
  async search(question: string): Promise<void> {
    const baseId = this.#baseId;
    if (baseId === null || !question.trim() || this.#searching) {
      return;
    }
    this.#searching = true;
    this.#written = null;
    try {
      await this.#errors.run(async () => {
        const hits = await search(baseId, question, await this.#embedder(), {
          minCosine: modelsStore.settings.minRelevance,
          annMinVectors: modelsStore.settings.annMinVectors
        });
        this.#hits = hits;
        if (hits.length > 0 && this.writesAnswers) {
          this.#written = { text: '', stats: null };
          this.#writing = new AbortController();
          const { stats } = await deviceTextGenerator(modelsStore.requireVisionModel(), modelsStore.settings).generate(
            {
              messages: [{ role: 'user', content: groundedPrompt(question, hits.map(passageOf)) }],
              max_tokens: GROUNDED_ANSWER_MAX_TOKENS
            },
            (token) => {
              if (this.#written) {
                this.#written.text += token;
              }
            },
            this.#writing.signal
          );
          this.#written = { text: stats.text, stats };
        }
      });
    } finally {
      this.#writing = null;
      this.#searching = false;
      this.#dropEmptyAnswer();
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

  async #embedder(): Promise<Embedder> {
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
