import { createRoute } from '@hono/zod-openapi';
import type { RequestIdVariables } from 'hono/request-id';
import { streamSSE } from 'hono/streaming';
import type { BackendRegistry } from '../backends/registry.ts';
import { chatRequestFrom } from '../backends/chat-request.ts';
import { ApiError } from '../http/errors.ts';
import { openAiJsonBody, openAiRouter } from '../http/validation.ts';
import { errorResponses } from '../schemas/common.ts';
import { ChatCompletionRequestSchema, ChatCompletionSchema } from '../schemas/openai.ts';

const route = createRoute({
  method: 'post',
  path: '/chat/completions',
  summary: 'Chat completion (OpenAI-compatible), with images',
  description:
    'Text and `image_url` parts; `stream: true` answers with server-sent `chat.completion.chunk` events, ' +
    'a `usage` chunk when `stream_options.include_usage` is set, and `data: [DONE]`. Parameters that would ' +
    'change the answer in ways this server cannot (`n` > 1, tools, JSON modes, logprobs, audio) are refused ' +
    'with a 400 naming them; a malformed request is a 400 whose `param` is the field (`messages[0].content`).',
  request: { body: { content: { 'application/json': { schema: ChatCompletionRequestSchema } }, required: true } },
  responses: {
    200: {
      description: 'The completion, or an SSE stream of chunks when `stream` is true',
      content: {
        'application/json': { schema: ChatCompletionSchema },
        'text/event-stream': { schema: { type: 'string' } }
      }
    },
    ...errorResponses(400, 401, 404, 413, 415, 429, 503, 504)
  }
});

/**
 * `POST /chat/completions`: one answer as JSON, or streamed as SSE chunks. The gateway's hot path:
 * the body is checked in the handler ({@link openAiJsonBody}), not by `openapi()`'s validators.
 */
export function chatCompletions(deps: { backends: BackendRegistry; imageHosts: readonly string[] }) {
  // The app's request-id middleware sets it: typed here, where no validator's types carry it.
  const router = openAiRouter<{ Variables: RequestIdVariables }>();
  router.openAPIRegistry.registerPath(route);
  return router.post(route.path, async (c) => {
    const body = await openAiJsonBody(c, ChatCompletionRequestSchema);
    const request = chatRequestFrom(body, deps.imageHosts);
    const backend = deps.backends.forModel(request.model, 'chat');
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (choices: unknown[], extra: object = {}) =>
      JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices, ...extra });

    if (!body.stream) {
      const result = await backend.chat(request, { signal: c.req.raw.signal, requestId: c.get('requestId') });
      return c.json(
        {
          id,
          object: 'chat.completion' as const,
          created,
          model: request.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant' as const, content: result.text },
              finish_reason: result.finishReason
            }
          ],
          usage: result.usage
        },
        200
      );
    }

    // The status line goes out once the backend has taken the request, so a refusal before that
    // (a bad image, a server down or too slow) keeps its status instead of a 200 with an error event.
    const aborted = new AbortController();
    const signal = AbortSignal.any([c.req.raw.signal, aborted.signal]);
    const early: string[] = [];
    let forward = (text: string) => void early.push(text);
    let take = () => {};
    const taken = new Promise<void>((resolve) => (take = resolve));
    const generation = backend.chat(request, {
      signal,
      requestId: c.get('requestId'),
      onStart: take,
      onDelta: (text) => forward(text)
    });
    await Promise.race([taken, generation]);

    return streamSSE(c, async (stream) => {
      stream.onAbort(() => aborted.abort());
      // Deltas arrive synchronously from the backend; writes are queued so they stay in order.
      let writes = stream.writeSSE({
        data: chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])
      });
      const write = (data: string) => (writes = writes.then(() => stream.writeSSE({ data })));
      forward = (text) => void write(chunk([{ index: 0, delta: { content: text }, finish_reason: null }]));
      early.forEach(forward);
      try {
        const result = await generation;
        void write(chunk([{ index: 0, delta: {}, finish_reason: result.finishReason }]));
        if (body.stream_options?.include_usage) {
          void write(chunk([], { usage: result.usage }));
        }
      } catch (error) {
        if (signal.aborted) {
          return;
        }
        // The status line is long gone: the error travels as the stream's last event.
        const failure =
          error instanceof ApiError ? error : new ApiError(503, 'generation_failed', 'The model stopped with an error');
        void write(JSON.stringify(failure.body()));
      }
      void write('[DONE]');
      await writes;
    });
  });
}
