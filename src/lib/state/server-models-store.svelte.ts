import { EdgeClient } from '#lib/services/edge-client.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';
import { edgeConnectionStore } from './edge-connection-store.svelte.ts';

/** A vision model the edge server serves, named as the server names it. */
export interface ServerModel {
  id: string;
}

/** What a server answered to `GET /v1/models`, kept with the server it came from. */
type ServerList = { baseUrl: string; models: ServerModel[] } | { baseUrl: string; error: UserError };

/**
 * The edge server's vision models, as `GET /v1/models` lists them: what the camera may ask when
 * the user lets questions leave the device. A list or failure belongs to the server it came from,
 * so a server changed in the settings shows nothing of the previous one's.
 */
class ServerModelsStore {
  #result = $state.raw<ServerList | null>(null);
  #loading = $state(false);

  #current(): ServerList | null {
    const result = this.#result;
    return result?.baseUrl === edgeConnectionStore.client.connection.baseUrl ? result : null;
  }

  /** The server's vision models; empty until they are known, or when it has none or cannot be reached. */
  get models(): ServerModel[] {
    const result = this.#current();
    return result && 'models' in result ? result.models : [];
  }

  /** Why the server's list could not be read; null when it was, or before it was asked. */
  get error(): UserError | null {
    const result = this.#current();
    return result && 'error' in result ? result.error : null;
  }

  /** Whether the server answered, with its list or a failure. */
  get known(): boolean {
    return this.#current() !== null;
  }

  get loading(): boolean {
    return this.#loading;
  }

  /** Asks the server set in the settings for its models again. */
  async refresh(): Promise<void> {
    this.#loading = true;
    try {
      // The saved server, even before the page that sends jobs has read it.
      await edgeConnectionStore.load();
      const { connection } = edgeConnectionStore.client;
      // One quick try: a page waits on it, and the camera simply goes without these models meanwhile.
      const client = new EdgeClient(connection, { retries: 0, timeoutMs: 8_000 });
      try {
        const list = await client.models();
        const models = list.data.filter((model) => model.capabilities.includes('vision')).map(({ id }) => ({ id }));
        this.#result = { baseUrl: connection.baseUrl, models };
      } catch (error) {
        const shown = handleError(error);
        this.#result = shown ? { baseUrl: connection.baseUrl, error: shown } : null;
      }
    } finally {
      this.#loading = false;
    }
  }
}

export const serverModelsStore = new ServerModelsStore();
