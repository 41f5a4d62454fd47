import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from '../conformance.ts';
import type { CrashWorkerConfig } from './crash-worker.ts';

const CHILD = new URL('./crash-worker.ts', import.meta.url).pathname;

/** A real child process running `crash-worker.ts`, with the lines it printed so far. */
export function startChild(config: CrashWorkerConfig) {
  const child: ChildProcess = spawn(process.execPath, [CHILD, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    lines,
    pid: child.pid!,
    /** Waits for a line, failing early (with its stderr) if the child dies first. */
    async waitForLine(line: string): Promise<void> {
      await waitFor(`the child to print "${line}"`, () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`The child exited before printing "${line}": ${stderr}`);
        }
        return lines.includes(line);
      });
    },
    async kill(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      await exited;
    }
  };
}

export type Child = ReturnType<typeof startChild>;
