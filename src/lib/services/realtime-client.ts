/**
 * The edge server's live channel (`GET /ws`, see edge-api/realtime/messages.ts) as the camera
 * assistant uses it: one question about one frame at a time, answered by the server's vision
 * model. Plain TypeScript: no store, no Svelte.
 */
import type { ErrorAction } from './handle-error.ts';

/** Where the server is and what to show it, as the edge connection keeps them. */
export interface RealtimeConnection {
  baseUrl: string;
  credential: string | null;
}

/** The server's answer about one frame. */
export interface ServerAnswer {
  text: string;
  /** The model the server ran, as it names it. */
  model: string;
  /** From the frame's arrival at the server to the answer. */
  latencyMs: number;
}

/** A failure of the live channel, said so that the user knows what to do. */
export class RealtimeError extends Error {
  override name = 'RealtimeError';
  readonly action: ErrorAction;

  constructor(message: string, action: ErrorAction = null) {
    super(message);
    this.action = action;
  }
}

export interface RealtimeClientOptions {
  /** How long a connection stays open without a question (the session outlives it on the server). */
  idleMs?: number;
  /** Reconnections to the same session after a dropped connection, before giving up. */
  reconnects?: number;
}

const IDLE_MS = 60_000;
const RECONNECTS = 3;
const BACKOFF_MS = 250;
const SETTINGS_HINT = 'Check the server on the Status page.';

interface Pending {
  /** Sent as `timestamp_ms` and echoed in the answer: tells this question's answer from an older one. */
  stamp: number;
  message: string;
  resolve: (answer: ServerAnswer) => void;
  reject: (error: unknown) => void;
}

/** The messages of the server's this client reads; it ignores the others (task-session updates). */
type Incoming =
  | { type: 'system_status'; status: { session_id: string; error?: { message: string } } }
  | {
      type: 'vlm_response';
      response: { text: string; model: string; latency_ms: number; timestamp_ms: number | null };
    };

/**
 * One live session on the server, over a WebSocket opened on the first question and closed after
 * `idleMs` without one. A connection that drops while a question waits is resumed
 * (`?session_id=`) and the frame sent again; the server pushes the answer if it was given meanwhile.
 */
export class RealtimeClient {
  readonly connection: RealtimeConnection;
  readonly #idleMs: number;
  readonly #reconnects: number;
  #socket: WebSocket | null = null;
  /** The socket is authenticated and joined to the session. */
  #ready = false;
  #sessionId: string | null = null;
  #pending: Pending | null = null;
  #lastStamp = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(connection: RealtimeConnection, options: RealtimeClientOptions = {}) {
    this.connection = connection;
    this.#idleMs = options.idleMs ?? IDLE_MS;
    this.#reconnects = options.reconnects ?? RECONNECTS;
  }

  /**
   * Asks the server's vision model `prompt` about `image` (a data: URL). An abort stops the
   * waiting, and the answer the server still sends is ignored.
   */
  ask(image: string, prompt: string, signal?: AbortSignal): Promise<ServerAnswer> {
    if (this.#pending) {
      return Promise.reject(new RealtimeError('The server is still answering the previous question.'));
    }
    if (signal?.aborted) {
      return Promise.reject(signal.reason);
    }
    clearTimeout(this.#idleTimer);
    this.#lastStamp = Math.max(Date.now(), this.#lastStamp + 1);
    const stamp = this.#lastStamp;
    return new Promise<ServerAnswer>((resolve, reject) => {
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#pending = null;
        this.#closeWhenIdle();
      };
      const onAbort = () => (settle(), reject(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending = {
        stamp,
        message: JSON.stringify({ type: 'frame', image, prompt, timestamp_ms: stamp }),
        resolve: (answer) => (settle(), resolve(answer)),
        reject: (error) => (settle(), reject(error))
      };
      if (this.#ready) {
        this.#socket?.send(this.#pending.message);
      } else if (!this.#socket) {
        this.#connect(0);
      }
    });
  }

  /** Closes the connection; a waiting question is aborted. */
  close(): void {
    clearTimeout(this.#idleTimer);
    this.#pending?.reject(new DOMException('The connection to the server was closed', 'AbortError'));
    this.#drop()?.close(1000);
  }

  /** `/ws` on the server, `ws:` or `wss:` as its address is `http:` or `https:`. */
  #url(): string {
    const base = this.connection.baseUrl.endsWith('/') ? this.connection.baseUrl : `${this.connection.baseUrl}/`;
    const url = new URL('ws', base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.#sessionId) {
      url.searchParams.set('session_id', this.#sessionId);
    }
    return url.href;
  }

  /** Forgets the current socket (its later events are ignored) and returns it. */
  #drop(): WebSocket | null {
    const socket = this.#socket;
    this.#socket = null;
    this.#ready = false;
    return socket;
  }

  #connect(attempt: number): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#url());
    } catch {
      this.#pending?.reject(new RealtimeError(`The server address is not valid. ${SETTINGS_HINT}`, 'edge-settings'));
      return;
    }
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      // Browsers cannot set headers on a WebSocket: the first message authenticates (anonymously without a token).
      const token = this.connection.credential;
      socket.send(JSON.stringify(token ? { type: 'auth', token } : { type: 'auth' }));
    };
    socket.onmessage = (event) => socket === this.#socket && this.#receive(event.data);
    socket.onclose = (event) => {
      if (socket === this.#socket) {
        this.#drop();
        this.#closed(event.code, event.reason, opened || attempt > 0, attempt);
      }
    };
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') {
      return;
    }
    const message = JSON.parse(data) as Incoming;
    const pending = this.#pending;
    if (message.type === 'system_status') {
      if (!this.#ready) {
        // Joined (a new session, or the same one again): the frame goes (again) now.
        this.#ready = true;
        this.#sessionId = message.status.session_id;
        if (pending) {
          this.#socket?.send(pending.message);
        }
      } else if (message.status.error && pending) {
        pending.reject(new RealtimeError(`The server could not answer: ${message.status.error.message}`));
      }
    } else if (message.type === 'vlm_response' && pending && message.response.timestamp_ms === pending.stamp) {
      const { text, model, latency_ms } = message.response;
      pending.resolve({ text, model, latencyMs: latency_ms });
    }
  }

  /** After a close: a waiting question gets its answer from a resumed session, or the reason it cannot. */
  #closed(code: number, reason: string, wasConnected: boolean, attempt: number): void {
    const pending = this.#pending;
    if (!pending) {
      return;
    }
    const refused = refusal(code, reason);
    if (refused) {
      pending.reject(refused);
      return;
    }
    if (code === 4404) {
      // The session expired while the app was away: a fresh one takes the question.
      this.#sessionId = null;
    } else if (!wasConnected || attempt >= this.#reconnects) {
      pending.reject(new RealtimeError(`The server could not be reached. Check the network. ${SETTINGS_HINT}`));
      return;
    }
    const retry = () => this.#pending === pending && !this.#socket && this.#connect(attempt + 1);
    setTimeout(retry, code === 4404 ? 0 : BACKOFF_MS * 2 ** attempt);
  }

  #closeWhenIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => !this.#pending && this.#drop()?.close(1000), this.#idleMs);
  }
}

/** What a close code the server chose means to the user; null for a dropped connection. */
function refusal(code: number, reason: string): RealtimeError | null {
  const why = reason ? ` (${reason})` : '';
  switch (code) {
    case 4401:
      return new RealtimeError(
        `The server refused the credential${why}. Set the API key or token on the Status page.`,
        'edge-settings'
      );
    case 4400:
      return new RealtimeError(`The server refused the question${why}.`);
    case 1009:
      return new RealtimeError('The image is too large for the server. Try a smaller one.');
    case 4429:
      return new RealtimeError('The server has too many live sessions for this account. Try again in a while.');
    case 1011:
      return new RealtimeError('The server failed while answering. Try again.');
    default:
      return null;
  }
}
