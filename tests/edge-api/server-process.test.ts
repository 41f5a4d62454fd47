import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/lib/core/edge-wire.ts';
import { pngDataUrl } from './support/png.ts';
import { MODELS_DIR, VISION_MODEL } from './support/test-app.ts';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((child) => child.kill('SIGKILL')));

function run(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  /** Resolves with the first JSON log line whose message is `message`. */
  const logged = (message: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const line = stdout.split('\n').find((text) => text.includes(`"message":"${message}"`));
        if (line) {
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      };
      child.stdout!.on('data', check);
      void exited.then((code) => reject(new Error(`exited with ${code} before "${message}": ${stderr}`)));
      check();
    });
  return { child, exited, logged, output: () => ({ stdout, stderr }) };
}

describe('edge API processes', () => {
  it('refuses to start with a bad configuration: exit code 2, the variable named, no stack trace', async () => {
    const server = run('edge-api/server.ts', { PORT: 'eighty', UPSTREAMS: 'not json' });
    expect(await server.exited).toBe(2);
    const { stderr } = server.output();
    expect(stderr).toContain('PORT');
    expect(stderr).toContain('UPSTREAMS');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  // Three processes start in turn, each loading the whole server (over a second apiece on a busy 2-core machine).
  it(
    'refuses a bad API key entry or JWT setting the same way, in the server and in a worker',
    { timeout: 30_000 },
    async () => {
      for (const entry of ['edge-api/server.ts', 'edge-api/worker.ts']) {
        const badKey = run(entry, { API_KEYS: 'tenant-without-a-hash' });
        expect(await badKey.exited).toBe(2);
        expect(badKey.output().stderr).toContain('API_KEYS');
        expect(badKey.output().stderr).not.toMatch(/\n\s+at /);
      }
      const badJwt = run('edge-api/server.ts', { JWT_SECRET: 'short', JWT_ISSUER: 'https://id', JWT_AUDIENCE: 'hub' });
      expect(await badJwt.exited).toBe(2);
      expect(badJwt.output().stderr).toContain('JWT_SECRET');
      expect(badJwt.output().stderr).not.toMatch(/\n\s+at /);
    }
  );

  it(
    'runs jobs in a separate `npm run worker` process that serves its own metrics, and both stop cleanly on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'edge-processes-'));
      const env = {
        PORT: '0',
        DATA_DIR: dataDir,
        MODELS_DIR,
        STATIC_DIR: '',
        MEDGEMMA_MODEL: VISION_MODEL,
        LOCAL_MODELS: VISION_MODEL
      };
      try {
        const server = run('edge-api/server.ts', { ...env, JOB_CONCURRENCY: '0' });
        const { url } = (await server.logged('listening')) as { url: string };
        const worker = run('edge-api/worker.ts', { ...env, WORKER_METRICS_PORT: '0' });
        const { metrics_url: workerMetrics } = (await worker.logged('worker started')) as { metrics_url: string };

        const submitted = await fetch(`${url}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'medgemma.analyze', input: { images: [{ url: pngDataUrl() }], max_tokens: 2 } })
        });
        expect(submitted.status).toBe(202);
        const { id } = (await submitted.json()) as JobView;
        // The API process runs no jobs (JOB_CONCURRENCY=0): only the worker process can finish it.
        const finished = await worker.logged('job finished');
        expect(finished).toMatchObject({ job_id: id, state: 'completed' });
        const job = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobView;
        expect(job.state).toBe('completed');
        // Only the worker saw the job run, so only its own endpoint can count it.
        const scraped = await fetch(workerMetrics);
        expect(scraped.status).toBe(200);
        expect(await scraped.text()).toMatch(/^jobs_finished_total\{type="medgemma\.analyze",state="completed"\} 1$/m);
        expect((await fetch(new URL('/health/live', workerMetrics))).status).toBe(200);

        server.child.kill('SIGTERM');
        worker.child.kill('SIGTERM');
        expect(await server.exited).toBe(0);
        expect(await worker.exited).toBe(0);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  );
});
