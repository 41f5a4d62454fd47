import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUpstream {
  /** Base URL as UPSTREAMS takes it (ends in /v1). */
  url: string;
  /** Chat requests received so far. */
  calls: number;
  /** Health probes (`GET /v1/models`) received so far. */
  probes: number;
  close(): Promise<void>;
}

/**
 * A stand-in for a GPU inference server (vLLM, TGI) that behaves badly on purpose: it speaks the
 * same HTTP protocol, and `respond` decides what each chat request gets. For failure modes a real
 * model server cannot be made to show on cue; the happy path is tested against a real edge API.
 */
export async function fakeUpstream(
  respond: (call: number, req: IncomingMessage, res: ServerResponse) => void | Promise<void>
): Promise<FakeUpstream> {
  const state = { calls: 0, probes: 0 };
  const server = createServer((req, res) => {
    if (req.url === '/v1/models') {
      state.probes += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    req.resume();
    req.on('end', () => {
      state.calls += 1;
      void respond(state.calls, req, res);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get calls() {
      return state.calls;
    },
    get probes() {
      return state.probes;
    },
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      })
  };
}

/** A complete, well-formed OpenAI chat completion. */
export function completion(text: string) {
  return JSON.stringify({
    id: 'chatcmpl-upstream',
    object: 'chat.completion',
    created: 0,
    model: 'upstream',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }
  });
}

export const chunk = (content: string) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
