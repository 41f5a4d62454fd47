import { selectVariant, type DeviceCapabilities } from '#lib/core/capabilities.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import { formatBytes } from '#lib/core/format.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import { chooseModels, detectIntent, serverVisionSkills, visionSkills } from '#lib/core/model-choice.ts';
import type { InstalledModel } from '#lib/db/index.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';
import {
  installedModels,
  installModel,
  storageEstimate,
  uninstallModel,
  type InstallProgress
} from '#lib/services/model-install.service.ts';
import { modelHostFor, modelsFor } from '#lib/services/registry.service.ts';
import { DEFAULT_SETTINGS, loadSettings, saveSetting, type Settings } from '#lib/services/settings.service.ts';
import { detectCapabilities } from '#lib/services/capabilities.service.ts';
import { connectivity } from './connectivity.svelte.ts';
import { serverModelsStore } from './server-models-store.svelte.ts';
import { toasts } from './toasts.svelte.ts';

/** A model that may answer a camera question: one on this device, or one of the edge server's. */
export type CameraCandidate =
  { kind: 'device'; model: ModelEntry; reason: string } | { kind: 'server'; id: string; name: string; reason: string };

/** The model registry as this device sees it: what is installed, chosen, downloading, and the settings. */
class ModelsStore {
  #settings = $state<Settings>({ ...DEFAULT_SETTINGS });
  #models = $state.raw<ModelEntry[]>([]);
  #installed = $state.raw<InstalledModel[]>([]);
  #capabilities = $state.raw<DeviceCapabilities | null>(null);
  #storage = $state.raw<{ usage: number; quota: number; persisted: boolean } | null>(null);
  #progress = $state<Record<string, InstallProgress | undefined>>({});
  #errors = $state<Record<string, UserError | undefined>>({});
  #initialised = $state(false);
  #downloads = new Map<string, AbortController>();

  /** The assistant's model: the chosen one, else the first installed, else the first listed. */
  #visionModel = $derived(this.#pick('image-text-to-text', this.#settings.visionModelId));
  /** The knowledge base's embedding model, chosen the same way. */
  #embeddingModel = $derived(this.#pick('feature-extraction', this.#settings.embeddingModelId));

  /** Read-only outside: change settings through the setters below. */
  get settings(): Readonly<Settings> {
    return this.#settings;
  }
  get models(): ModelEntry[] {
    return this.#models;
  }
  get installed(): InstalledModel[] {
    return this.#installed;
  }
  get capabilities(): DeviceCapabilities | null {
    return this.#capabilities;
  }
  get storage(): { usage: number; quota: number; persisted: boolean } | null {
    return this.#storage;
  }
  /** Install in progress, by model id. */
  get progress(): Readonly<Record<string, InstallProgress | undefined>> {
    return this.#progress;
  }
  get errors(): Readonly<Record<string, UserError | undefined>> {
    return this.#errors;
  }
  get initialised(): boolean {
    return this.#initialised;
  }
  get visionModel(): ModelEntry | null {
    return this.#visionModel;
  }
  get embeddingModel(): ModelEntry | null {
    return this.#embeddingModel;
  }

  /** Whether a vision-language model is chosen and installed, so answers can be written on this device. */
  get canAnswer(): boolean {
    const model = this.#visionModel;
    return !!model && this.isInstalled(model.id);
  }

  /**
   * The model that writes answers for a feature: the chosen one, else the first installed, else
   * the first listed. Only models that answer in words write them (not Florence-2's tasks).
   */
  #pick(task: ModelEntry['task'], chosen: string | null): ModelEntry | null {
    const models = this.#models.filter((m) => m.task === task && visionSkills(m.architecture)?.freeform !== false);
    return (
      models.find((m) => m.id === chosen) ??
      models.find((m) => this.isInstalled(m.id)) ??
      models.find((m) => !m.dev) ??
      null
    );
  }

  async init(): Promise<void> {
    this.#models = [...modelsFor('image-text-to-text'), ...modelsFor('feature-extraction')];
    const [settings, installed, capabilities, storage] = await Promise.all([
      loadSettings(),
      installedModels(),
      detectCapabilities(),
      storageEstimate()
    ]);
    // All at once: pages lay themselves out once, instead of shifting as each answer arrives.
    this.#settings = settings;
    this.#installed = installed;
    this.#capabilities = capabilities;
    this.#storage = storage;
    this.#initialised = true;
    if (settings.serverModels) {
      void serverModelsStore.refresh();
    }
  }

  /** The vision-language model that writes answers, or why there is none to use. */
  requireVisionModel(): ModelEntry {
    const model = this.#visionModel;
    if (!model) {
      throw new ModelNotInstalledError('Choose a vision-language model first: it writes the answers on this device.');
    }
    return model;
  }

  /**
   * The models that may answer `prompt` about a frame, in the order to try them, each with why
   * (core's choice rules): the installed ones, and the edge server's when the user allows it and
   * the network is there; the one the user chose answers alone.
   */
  cameraCandidates(prompt: string): CameraCandidate[] {
    const device = this.#models.flatMap((entry) => {
      const skills = visionSkills(entry.architecture);
      const available = this.isInstalled(entry.id);
      const candidate = { kind: 'device' as const, model: entry };
      return skills
        ? [{ id: entry.id, name: entry.name, ...skills, runsOn: 'device' as const, available, candidate }]
        : [];
    });
    // Prefixed: the server may run a model by the same id as one in the registry (a tiny test model).
    const server = serverModelsStore.models.map(({ id }) => ({
      id: `server:${id}`,
      name: id,
      ...serverVisionSkills(id),
      runsOn: 'server' as const,
      available: true,
      candidate: { kind: 'server' as const, id, name: id }
    }));
    const pinned = this.#settings.visionModelId;
    return chooseModels(detectIntent(prompt), [...device, ...server], {
      allowServer: this.#settings.serverModels,
      online: connectivity.online,
      pinned: device.some((choice) => choice.id === pinned) ? pinned : null
    }).map(({ model: { candidate }, reason }) =>
      // The user is told, in every answer from there, that the question left the device.
      candidate.kind === 'server'
        ? { ...candidate, reason: `${reason} · on the edge server` }
        : { ...candidate, reason }
    );
  }

  isInstalled(modelId: string): boolean {
    return this.#installed.some((m) => m.modelId === modelId);
  }

  async refreshStorage(): Promise<void> {
    this.#storage = await storageEstimate();
  }

  /** Downloads the best variant for this device; `variantId` (what was installed before) goes first when it fits. */
  async install(model: ModelEntry, variantId?: string): Promise<boolean> {
    if (this.#downloads.has(model.id) || !this.#capabilities) {
      return false;
    }
    const controller = new AbortController();
    this.#downloads.set(model.id, controller);
    this.#errors[model.id] = undefined;
    this.#progress[model.id] = { file: '', fileLoaded: 0, fileTotal: 0, loaded: 0, total: 0 };
    try {
      const { variant } = selectVariant(model, this.#capabilities, {
        preferred: this.#settings.variantOverrides[model.id] ?? variantId
      });
      const host = modelHostFor(model, this.#settings.modelHost);
      await installModel(model, variant, host, (p) => (this.#progress[model.id] = p), controller.signal);
      this.#installed = await installedModels();
      return true;
    } catch (error) {
      this.#errors[model.id] = handleError(error) ?? undefined;
      return false;
    } finally {
      this.#downloads.delete(model.id);
      this.#progress[model.id] = undefined;
      await this.refreshStorage();
    }
  }

  cancel(modelId: string): void {
    this.#downloads.get(modelId)?.abort();
  }

  /** Removes `model`; the notice where the user is offers Undo, saying what that costs. */
  async uninstall(model: ModelEntry): Promise<void> {
    const record = this.#installed.find((m) => m.modelId === model.id);
    if (!record) {
      return;
    }
    await uninstallModel(model, record);
    this.#installed = await installedModels();
    await this.refreshStorage();
    toasts.show(`Removed ${model.name}`, {
      action: {
        label: `Undo (downloads ${formatBytes(record.bytes)} again)`,
        run: () => this.install(model, record.variantId)
      }
    });
  }

  /** Makes `model` the one its feature uses (the camera's VLM or the knowledge base's embedder). */
  async choose(model: ModelEntry): Promise<void> {
    const key = model.task === 'feature-extraction' ? 'embeddingModelId' : 'visionModelId';
    this.#settings[key] = model.id;
    await saveSetting(key, model.id);
  }

  /** The camera's questions each choose their model again (see {@link cameraCandidates}). */
  async chooseAutomatically(): Promise<void> {
    this.#settings.visionModelId = null;
    await saveSetting('visionModelId', null);
  }

  /** Forces a variant for a model (null: automatic). Takes effect at the next load. */
  async setVariantOverride(modelId: string, variantId: string | null): Promise<void> {
    const { [modelId]: _, ...others } = this.#settings.variantOverrides;
    this.#settings.variantOverrides = variantId ? { ...others, [modelId]: variantId } : others;
    await saveSetting('variantOverrides', $state.snapshot(this.#settings.variantOverrides));
  }

  /** Lets the camera's questions go to the edge server's models (on), or keeps them here (off). */
  async setServerModels(on: boolean): Promise<void> {
    await saveSetting('serverModels', on);
    this.#settings.serverModels = on;
    if (on) {
      await serverModelsStore.refresh();
    }
  }

  async setMinRelevance(value: number): Promise<void> {
    await saveSetting('minRelevance', value);
    this.#settings.minRelevance = value;
  }

  async setModelHost(host: string): Promise<void> {
    await saveSetting('modelHost', host);
    this.#settings.modelHost = host;
  }
}

export const modelsStore = new ModelsStore();
