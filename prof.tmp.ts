import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createApiKey } from './edge-api/security/api-keys.ts';
const start = (kind: string, env: Record<string,string> = {}, up = '', args: string[] = []) => {
  const child = spawn(process.execPath, [...args, 'tests/bench/edge/bench-servers.ts', kind, up], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<[string, typeof child]>((r) => child.stdout!.once('data', (c: Buffer) => r([c.toString().trim(), child])));
};
const { key, hash } = await createApiKey();
const [up, upc] = await start('upstream');
const dir = '/tmp/prof'; 
const [gw, gwc] = await start('gateway', { BENCH_API_KEY_HASH: hash, BENCH_DATA_DIR: mkdtempSync(join(tmpdir(), 'g-')) }, up, ['--import=/tmp/exit-on-int.mjs', '--cpu-prof', `--cpu-prof-dir=${dir}`]);
const body = JSON.stringify({ model: 'gpu-model', messages: [{ role: 'user', content: 'What is in the picture?' }], max_tokens: 16 });
const r = await autocannon({ url: `${gw}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body, connections: 50, duration: Number(process.env.D ?? 10) });
console.log(r.requests.average, r.non2xx);
gwc.kill('SIGINT'); await new Promise((r) => gwc.once('exit', r)); upc.kill();
console.log(readdirSync(dir));
