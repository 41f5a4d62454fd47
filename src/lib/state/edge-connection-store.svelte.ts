import type { EdgeHealth, EdgeModelList } from '#lib/core/edge-wire.ts';
import type { EdgeClient } from '#lib/services/edge-client.ts';
import { edgeClientFor } from '#lib/services/edge-jobs.service.ts';
import { handleError, type UserError } from '#lib/services/handle-error.ts';
import { loadSettings, saveSetting } from '#lib/services/settings.service.ts';

export type ConnectionTest =
  | { phase: 'testing' }
  | { phase: 'ok'; health: EdgeHealth; models: EdgeModelList['data'] }
  | { phase: 'failed'; error: UserError };

function maskOf(credential: string | null): string | null {
  if (!credential) {
    return null;
  }
  return credential.length <= 12 ? '••••••••' : `${credential.slice(0, 3)}••••${credential.slice(-4)}`;
}

/** The edge server the app talks to: its URL and credential as saved, their test, and whether the network is there. */
class EdgeConnectionStore {
  #serverUrl = $state<string | null>(null);
  #credential = $state<string | null>(null);
  #online = $state(true);
  #test = $state.raw<ConnectionTest | null>(null);
  #client = $derived(edgeClientFor({ edgeUrl: this.#serverUrl, edgeCredential: this.#credential }));
  #credentialMask = $derived(maskOf(this.#credential));

  get serverUrl(): string | null {
    return this.#serverUrl;
  }

  /** Enough of the credential to recognise it, never all of it. */
  get credentialMask(): string | null {
    return this.#credentialMask;
  }

  get online(): boolean {
    return this.#online;
  }

  get test(): ConnectionTest | null {
    return this.#test;
  }

  /** The server the app talks to now. */
  get client(): EdgeClient {
    return this.#client;
  }

  /** The client for a job sent earlier: the server it went to, with today's credentials. */
  clientOf(server: string | null): EdgeClient {
    return server === null || server === this.#client.connection.baseUrl
      ? this.#client
      : edgeClientFor({ edgeUrl: server, edgeCredential: this.#credential });
  }

  /** Follows the browser's network state from now on; `onReturn` runs whenever the network comes back. */
  followNetwork(onReturn: () => void): void {
    this.#online = navigator.onLine;
    addEventListener('online', () => {
      this.#online = true;
      onReturn();
    });
    addEventListener('offline', () => (this.#online = false));
  }

  async load(): Promise<void> {
    const settings = await loadSettings();
    this.#serverUrl = settings.edgeUrl;
    this.#credential = settings.edgeCredential;
  }

  /** Saves the server and credential; an undefined credential keeps the saved one, null removes it. */
  async save(serverUrl: string | null, credential: string | null | undefined): Promise<void> {
    const next = credential === undefined ? this.#credential : credential;
    await saveSetting('edgeUrl', serverUrl);
    await saveSetting('edgeCredential', next);
    this.#serverUrl = serverUrl;
    this.#credential = next;
    this.#test = null;
  }

  /** Asks a server for its health, version and models: the saved one, or the one being entered. */
  async testConnection(serverUrl: string | null, credential?: string): Promise<void> {
    this.#test = { phase: 'testing' };
    const client = edgeClientFor(
      { edgeUrl: serverUrl, edgeCredential: credential ?? this.#credential },
      { retries: 0, timeoutMs: 8_000 }
    );
    try {
      const [health, models] = await Promise.all([client.health(), client.models()]);
      this.#test = { phase: 'ok', health, models: models.data };
    } catch (error) {
      const shown = handleError(error);
      this.#test = shown ? { phase: 'failed', error: shown } : null;
    }
  }
}

export const edgeConnectionStore = new EdgeConnectionStore();
