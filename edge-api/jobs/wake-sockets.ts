import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** Only files renamed into place once their server listens end so: see `WakeSockets.listen`. */
const SOCKET_SUFFIX = '.sock';
/** How stale a sender's list of listeners may get: a worker started since waits at most this for its first wake (it polls meanwhile). */
const RESCAN_MS = 1000;
const WAKE = Buffer.from([1]);

/** The folder of wake sockets beside the job database at `dbPath`: every process opening that file finds the same one. */
export const wakeFolder = (dbPath: string): string => `${dbPath}-wake`;

/**
 * Wakes idle workers in other processes when jobs become claimable, so that they need not wait
 * for their next poll. Every queue handle that runs workers listens on a Unix domain socket of
 * its own in one folder beside the database; any handle that enqueues (an API process, or a
 * worker ending a run) connects to every socket there and writes a byte. So any number of API
 * and worker processes on one machine find each other, whichever starts first, with no process
 * in charge. A wake is only a hint: a lost one (a socket that could not be made, a listener not
 * yet seen) costs at most a poll interval, and the claim itself is still the database's.
 */
export class WakeSockets {
  readonly #folder: string;
  readonly #onError: (error: unknown) => void;
  /** Connections to other handles' listeners, by socket path. */
  readonly #peers = new Map<string, Socket>();
  /** Connections other handles made to this one's listener. */
  readonly #accepted = new Set<Socket>();
  #server: Server | undefined;
  /** This handle's own socket, once it listens: never woken through itself. */
  #own: string | undefined;
  #scannedAt = -Infinity;
  #closed = false;

  constructor(folder: string, onError: (error: unknown) => void) {
    this.#folder = folder;
    this.#onError = onError;
  }

  /** Starts listening (once per handle): `onWake` runs whenever another handle notifies. */
  listen(onWake: () => void): void {
    if (this.#server || this.#closed) {
      return;
    }
    mkdirSync(this.#folder, { recursive: true, mode: 0o700 });
    const name = `${process.pid}-${randomUUID().slice(0, 8)}`;
    const staging = join(this.#folder, `${name}.new`);
    const path = join(this.#folder, `${name}${SOCKET_SUFFIX}`);
    const server = createServer((socket) => {
      socket.unref();
      this.#accepted.add(socket);
      socket.on('data', onWake);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.#accepted.delete(socket));
    });
    server.on('error', (error) =>
      this.#onError(
        new Error(`Job wake socket ${path}: ${error.message}; workers here find new jobs by polling only`, {
          cause: error
        })
      )
    );
    // Bound under another name and renamed once it accepts connections, so that a refused
    // connection to a `.sock` file always means its process is gone (and the file may go).
    server.listen(staging, () => {
      try {
        renameSync(staging, path);
        this.#own = path;
      } catch (error) {
        server.emit('error', error);
      }
      // Also clears the sockets of workers that died since the last scan.
      this.#scan();
    });
    server.unref();
    this.#server = server;
  }

  /** Wakes every other handle's workers (a byte each, skipped where one is still unsent). */
  notify(): void {
    if (this.#closed) {
      return;
    }
    if (performance.now() - this.#scannedAt >= RESCAN_MS) {
      this.#scan();
    }
    for (const socket of this.#peers.values()) {
      // Written before the connection is up, a byte waits in the socket: that wakes it too.
      if (socket.writableLength === 0) {
        socket.write(WAKE);
      }
    }
  }

  /** Stops listening and sending; the socket file goes with it. */
  close(): void {
    this.#closed = true;
    this.#server?.close();
    this.#accepted.forEach((socket) => socket.destroy());
    this.#peers.forEach((socket) => socket.destroy());
    this.#peers.clear();
    if (this.#own) {
      unlinkQuietly(this.#own);
    }
  }

  /** Connects to the listeners that appeared since the last look. */
  #scan(): void {
    this.#scannedAt = performance.now();
    let names: string[];
    try {
      names = readdirSync(this.#folder);
    } catch {
      // No folder yet: no process has listened on this database.
      return;
    }
    for (const name of names) {
      const path = join(this.#folder, name);
      if (!name.endsWith(SOCKET_SUFFIX) || path === this.#own || this.#peers.has(path)) {
        continue;
      }
      const socket = connect(path);
      socket.unref();
      this.#peers.set(path, socket);
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') {
          unlinkQuietly(path);
        }
      });
      socket.on('close', () => {
        if (this.#peers.get(path) === socket) {
          this.#peers.delete(path);
        }
      });
    }
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: another process cleared it first.
  }
}
