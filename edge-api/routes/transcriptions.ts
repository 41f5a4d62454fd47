import { createRoute, z } from '@hono/zod-openapi';
import type { TranscriptionResult } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { badRequest } from '../http/errors.ts';
import { openAiRouter } from '../http/validation.ts';
import type { RequestIdVariables } from 'hono/request-id';
import { errorResponses, LanguageCodeSchema } from '../schemas/common.ts';

const FORMATS = ['json', 'text', 'verbose_json', 'srt', 'vtt'] as const;

const TranscriptionRequestSchema = z
  .object({
    file: z
      .instanceof(File)
      .openapi({ type: 'string', format: 'binary', description: 'The recording: WAV on the local models' }),
    model: z.string().min(1).openapi({ example: 'whisper-base' }),
    language: LanguageCodeSchema.optional().openapi({
      description: 'The spoken language; local models assume English when it is absent'
    }),
    prompt: z.string().max(2_000).optional(),
    response_format: z.enum(FORMATS).default('json'),
    temperature: z.coerce.number().min(0).max(1).optional(),
    'timestamp_granularities[]': z
      .union([z.string(), z.array(z.string())])
      .optional()
      .openapi({ description: 'Only `segment` (with `verbose_json`): word times are not produced' }),
    stream: z.string().optional().openapi({ description: 'Refused when "true": transcripts come whole' })
  })
  .openapi('TranscriptionRequest');

const SegmentSchema = z.object({
  id: z.number().int(),
  seek: z.number().int().openapi({ description: 'Where the segment starts, in 10 ms frames' }),
  start: z.number(),
  end: z.number(),
  text: z.string(),
  temperature: z.number()
});

const VerboseSchema = z
  .object({
    task: z.literal('transcribe'),
    language: z.string(),
    duration: z.number(),
    text: z.string(),
    segments: z.array(SegmentSchema)
  })
  .openapi('TranscriptionVerbose');

const route = createRoute({
  method: 'post',
  path: '/audio/transcriptions',
  summary: 'Speech to text (OpenAI-compatible)',
  description:
    'A multipart form as the OpenAI SDKs send it. `json` answers `{ text }`; `verbose_json` adds the language, ' +
    'duration and timed segments; `text`, `srt` and `vtt` answer plain text. Local Whisper models read WAV files ' +
    '(PCM or float, any rate, resampled to 16 kHz); an upstream model server gets the file as sent.',
  request: {
    body: { content: { 'multipart/form-data': { schema: TranscriptionRequestSchema } }, required: true }
  },
  responses: {
    200: {
      description: 'The transcript',
      content: {
        'application/json': { schema: z.union([z.object({ text: z.string() }), VerboseSchema]) },
        'text/plain': { schema: z.string() }
      }
    },
    ...errorResponses(400, 401, 404, 413, 415, 429, 503, 504)
  }
});

/** `POST /audio/transcriptions`: Whisper on this machine, or the model's upstream server. */
export function transcriptions(deps: { backends: BackendRegistry }) {
  return openAiRouter<{ Variables: RequestIdVariables }>().openapi(route, async (c) => {
    const form = c.req.valid('form');
    if (form.stream === 'true') {
      throw badRequest('unsupported_parameter', 'Transcripts are not streamed here: leave out stream', 'stream');
    }
    const granularities = [form['timestamp_granularities[]'] ?? []].flat();
    if (granularities.includes('word')) {
      throw badRequest(
        'unsupported_parameter',
        'Word timestamps are not produced: ask for segment timestamps (verbose_json) instead',
        'timestamp_granularities'
      );
    }
    const result = await deps.backends.forModel(form.model, 'audio').transcribe(
      {
        model: form.model,
        file: {
          bytes: new Uint8Array(await form.file.arrayBuffer()),
          name: form.file.name || 'audio',
          type: form.file.type || 'application/octet-stream',
          field: 'file'
        },
        language: form.language,
        prompt: form.prompt,
        temperature: form.temperature
      },
      { signal: c.req.raw.signal, requestId: c.get('requestId') }
    );
    switch (form.response_format) {
      case 'json':
        return c.json({ text: result.text }, 200);
      case 'verbose_json':
        return c.json(verbose(result, form.temperature ?? 0), 200);
      case 'text':
        return c.text(`${result.text}\n`, 200);
      case 'srt':
        return c.text(subtitles(result, 'srt'), 200);
      case 'vtt':
        return c.text(subtitles(result, 'vtt'), 200, { 'content-type': 'text/vtt; charset=UTF-8' });
    }
  });
}

function verbose(result: TranscriptionResult, temperature: number): z.infer<typeof VerboseSchema> {
  return {
    task: 'transcribe',
    language: result.language ?? 'unknown',
    duration: result.durationS,
    text: result.text,
    segments: result.segments.map((segment, id) => ({
      id,
      seek: Math.round(segment.start * 100),
      start: segment.start,
      end: segment.end,
      text: segment.text,
      temperature
    }))
  };
}

/** SubRip or WebVTT cues, one per segment. */
function subtitles(result: TranscriptionResult, format: 'srt' | 'vtt'): string {
  const separator = format === 'srt' ? ',' : '.';
  const time = (seconds: number) => {
    const ms = Math.round(seconds * 1000);
    const part = (value: number, width = 2) => String(value).padStart(width, '0');
    return `${part(Math.floor(ms / 3_600_000))}:${part(Math.floor(ms / 60_000) % 60)}:${part(Math.floor(ms / 1000) % 60)}${separator}${part(ms % 1000, 3)}`;
  };
  const cues = result.segments.map(
    (segment, i) =>
      `${format === 'srt' ? `${i + 1}\n` : ''}${time(segment.start)} --> ${time(segment.end)}\n${segment.text}\n`
  );
  return format === 'srt' ? cues.join('\n') : `WEBVTT\n\n${cues.join('\n')}`;
}
