import type { Context, Handler } from 'hono';
import type { UpgradeWebSocket, WSContext, WSMessageReceive } from 'hono/ws';
import { checkImageUrl } from '../backends/chat-request.ts';
import { ApiError } from '../http/errors.ts';
import { describeError, type Logger } from '../http/logger.ts';
import type { Principal } from '../security/principal.ts';
import type { CheckCredentials } from '../security/authenticate.ts';
import type { RealtimeHub } from './hub.ts';
import { ClientMessage, CLOSE, type ServerMessage } from './messages.ts';
import type { Listener, RealtimeSession } from './session.ts';
import type { TaskSessionLinks } from './task-links.ts';

export interface RealtimeSocketOptions {
  hub: RealtimeHub;
  /** Starts sessions (linked to task sessions) and answers `state_query`. */
  links: TaskSessionLinks;
  upgradeWebSocket: UpgradeWebSocket;
  checkCredentials: CheckCredentials;
  /** Browser origins besides the API's own that may open the socket (CORS does not cover WebSockets). */
  corsOrigins: readonly string[];
  imageHosts: readonly string[];
  logger: Logger;
  /** How long a connection without an Authorization header has to send its `auth` message. */
  authTimeoutMs?: number;
}

const AUTH_TIMEOUT_MS = 10_000;
const OPEN = 1;

/**
 * `GET /ws`: the live session over one WebSocket (see ./messages.ts). `?session_id=` resumes a
 * session (4404 when this tenant has none by that id); without it a new one starts (`?model=`
 * names its vision model, `?task_session_id=` the tenant's task session it feeds: 4404 when there
 * is none). The first `system_status` tells the client its session id.
 */
export function realtimeSocket(options: RealtimeSocketOptions): Handler {
  return async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError(426, 'upgrade_required', 'GET /ws is a WebSocket: connect with a WebSocket client', {
        headers: { upgrade: 'websocket' }
      });
    }
    checkOrigin(c, options.corsOrigins);
    const connection = new Connection(options, {
      authorization: c.req.header('authorization'),
      sessionId: c.req.query('session_id'),
      model: c.req.query('model'),
      taskSessionId: c.req.query('task_session_id')
    });
    return options.upgradeWebSocket(c, {
      onOpen: (_event, ws) => connection.open(ws),
      onMessage: (event) => connection.receive(event.data),
      onClose: () => connection.closed()
    });
  };
}

/**
 * Browsers let any page open a WebSocket to any host, with no CORS check: without this, a page
 * the user visits could use the keyless loopback API on their behalf.
 */
function checkOrigin(c: Context, allowed: readonly string[]): void {
  const origin = c.req.header('origin');
  if (origin === undefined || allowed.includes(origin)) {
    return;
  }
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    // An unparseable Origin is refused below.
  }
  if (host !== new URL(c.req.url).host) {
    throw new ApiError(403, 'origin_not_allowed', `Origin ${origin} may not open this WebSocket (see CORS_ORIGINS)`);
  }
}

/** A close reason may hold 123 bytes. */
const reason = (text: string) => (Buffer.byteLength(text) <= 123 ? text : `${text.slice(0, 110)}…`);

interface Handshake {
  authorization: string | undefined;
  sessionId: string | undefined;
  model: string | undefined;
  taskSessionId: string | undefined;
}

/** One client connection: authentication, then its messages in order, against one session. */
class Connection implements Listener {
  readonly #options: RealtimeSocketOptions;
  readonly #handshake: Handshake;
  #ws: WSContext | null = null;
  #principal: Principal | null = null;
  #session: RealtimeSession | null = null;
  #done = false;
  #authTimer: NodeJS.Timeout | undefined;
  /** Messages are handled one after the other: an `auth` check finishes before the next frame. */
  #chain: Promise<void> = Promise.resolve();

  constructor(options: RealtimeSocketOptions, handshake: Handshake) {
    this.#options = options;
    this.#handshake = handshake;
  }

  open(ws: WSContext): void {
    this.#ws = ws;
    const { authorization } = this.#handshake;
    if (authorization !== undefined) {
      this.#then(async () => void (await this.#authenticate(authorization, this.#handshake.taskSessionId)));
      return;
    }
    this.#authTimer = setTimeout(
      () => this.#close(CLOSE.unauthorized, 'Send {"type":"auth","token":"…"} first'),
      this.#options.authTimeoutMs ?? AUTH_TIMEOUT_MS
    );
  }

  receive(data: WSMessageReceive): void {
    this.#then(() => this.#handle(data));
  }

  closed(): void {
    this.#done = true;
    clearTimeout(this.#authTimer);
    this.#session?.leave(this);
  }

  send(message: ServerMessage): void {
    if (this.#ws?.readyState === OPEN) {
      this.#ws.send(JSON.stringify(message));
    }
  }

  #then(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#done) {
        return;
      }
      try {
        await step();
      } catch (error) {
        this.#options.logger.error('websocket', describeError(error));
        this.#close(CLOSE.internal, 'Internal error');
      }
    });
  }

  #close(code: number, text: string): void {
    this.#done = true;
    clearTimeout(this.#authTimer);
    this.#ws?.close(code, reason(text));
  }

  async #handle(data: WSMessageReceive): Promise<void> {
    const message = parse(data);
    if (typeof message === 'string') {
      this.#close(CLOSE.badMessage, message);
      return;
    }
    if (!this.#principal) {
      // Without a header, the first message authenticates: `auth`, or any other where anonymous access is allowed.
      const auth = message.type === 'auth' ? message : undefined;
      const header = auth?.token === undefined ? undefined : `Bearer ${auth.token}`;
      const taskSessionId = auth?.task_session_id ?? this.#handshake.taskSessionId;
      if (!(await this.#authenticate(header, taskSessionId)) || message.type === 'auth') {
        return;
      }
    } else if (message.type === 'auth') {
      this.#close(CLOSE.badMessage, 'Already authenticated');
      return;
    }
    const session = this.#session;
    if (!session) {
      return;
    }
    if (message.type === 'frame') {
      try {
        checkImageUrl(message.image, this.#options.imageHosts, 'image');
      } catch (error) {
        this.#close(CLOSE.badMessage, error instanceof ApiError ? error.message : 'Bad image');
        return;
      }
      session.submit(message.image, message.timestamp_ms ?? null, message.prompt ?? null);
    } else {
      this.send(await this.#options.links.query(session, message));
    }
  }

  /** Authenticates, then joins the session; false when the connection was closed instead. */
  async #authenticate(authorization: string | undefined, taskSessionId: string | undefined): Promise<boolean> {
    clearTimeout(this.#authTimer);
    try {
      this.#principal = await this.#options.checkCredentials(authorization);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.#close(CLOSE.unauthorized, error.message);
        return false;
      }
      throw error;
    }
    return this.#join(this.#principal.tenant, taskSessionId);
  }

  async #join(tenant: string, taskSessionId: string | undefined): Promise<boolean> {
    const { sessionId, model } = this.#handshake;
    let session: RealtimeSession | undefined;
    if (sessionId !== undefined) {
      session = this.#options.hub.find(tenant, sessionId);
      if (!session) {
        this.#close(CLOSE.unknownSession, `No live session ${sessionId}`);
        return false;
      }
      // A link is made when a session starts: a client cannot move a running one to another task.
      if (taskSessionId !== undefined && taskSessionId !== session.taskSessionId) {
        this.#close(CLOSE.badMessage, `Live session ${sessionId} feeds another task session, or none`);
        return false;
      }
    } else {
      try {
        session = await this.#options.links.start(tenant, { model, task_session_id: taskSessionId });
      } catch (error) {
        if (!(error instanceof ApiError)) {
          throw error;
        }
        this.#close(closeCode(error), error.message);
        return false;
      }
    }
    if (this.#done) {
      return false;
    }
    this.#session = session;
    session.join(this);
    const resumed = sessionId !== undefined;
    this.send({ type: 'system_status', status: session.status(resumed) });
    // A client coming back sees the newest answer it may have missed while away.
    const latest = session.recent.at(-1);
    if (resumed && latest) {
      this.send({ type: 'vlm_response', response: latest });
    }
    // A client following a task session sees where it stands now, not only after its next change.
    const state = await this.#options.links.current(session);
    if (state && !this.#done) {
      this.send(state);
    }
    return true;
  }
}

/** The close code for a session that could not start. */
function closeCode(error: ApiError): number {
  if (error.status === 429) {
    return CLOSE.tooManySessions;
  }
  // Not any 404: an unknown model is the client's bad request, like a model without vision.
  return error.code === 'session_not_found' ? CLOSE.unknownSession : CLOSE.badMessage;
}

/** A frame's image bytes, recognised by their magic numbers. */
const IMAGE_SIGNATURES: Array<{ type: string; matches: (bytes: Uint8Array) => boolean }> = [
  { type: 'image/jpeg', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/png', matches: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  {
    type: 'image/webp',
    matches: (b) =>
      Buffer.from(b.subarray(0, 4)).toString() === 'RIFF' && Buffer.from(b.subarray(8, 12)).toString() === 'WEBP'
  }
];

/** The message, or why it is refused. */
function parse(data: WSMessageReceive): ClientMessage | string {
  if (typeof data !== 'string') {
    if (!(data instanceof ArrayBuffer)) {
      return 'Unsupported message';
    }
    const bytes = new Uint8Array(data);
    const type = IMAGE_SIGNATURES.find((signature) => signature.matches(bytes))?.type;
    if (!type) {
      return 'A binary message must be a JPEG, PNG or WebP image';
    }
    return { type: 'frame', image: `data:${type};base64,${Buffer.from(bytes).toString('base64')}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return 'Bad JSON';
  }
  const result = ClientMessage.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return `Bad message${issue?.path.length ? ` at "${issue.path.join('.')}"` : ''}: ${issue?.message ?? 'unknown shape'}`;
  }
  return result.data;
}
