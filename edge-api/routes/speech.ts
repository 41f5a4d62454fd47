import { createRoute, z } from '@hono/zod-openapi';
import { scoreReading, type SpeechAnalysis } from '../../src/lib/core/speech/analyze-speech.ts';
import type { TranscriptionResult } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import { serviceUnavailable, unprocessable } from '../http/errors.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import { COMMON_ERRORS, errorResponses, jsonResponse, LanguageCodeSchema } from '../schemas/common.ts';
import type { AuthEnv } from '../security/principal.ts';
import type { SpeechAnalyzer } from '../speech/speech-analyzer.ts';

/** The seed classroom client's body (`analyzeSpeech({ audioBase64, sampleRate, childAge, taskType })`). */
const SpeechRequestSchema = z
  .object({
    audioBase64: z.string().min(1).openapi({
      description: 'The recording: a WAV file (PCM or float, mixed down to mono), or bare 16-bit little-endian mono PCM'
    }),
    sampleRate: z
      .number()
      .int()
      .min(4_000)
      .max(192_000)
      .optional()
      .openapi({ description: 'The rate of bare PCM (required for it); a WAV file says its own', example: 16_000 }),
    referenceText: z
      .string()
      .max(20_000)
      .optional()
      .openapi({ description: 'The passage the learner read: with `transcript`, the reading is scored word by word' }),
    transcript: z
      .string()
      .max(20_000)
      .optional()
      .openapi({
        description:
          'What the learner said (typed by the teacher, or from the app’s recogniser); without it, analyze and ' +
          'articulation transcribe the recording when the server has a speech model'
      }),
    model: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'The speech model that transcribes; the first one the server has when absent' }),
    language: LanguageCodeSchema.optional().openapi({
      description: 'The spoken language, for the transcript (English when absent)'
    }),
    childAge: z
      .number()
      .int()
      .min(2)
      .max(18)
      .optional()
      .openapi({ description: 'Recorded with the results; no norm is applied' }),
    taskType: z.string().max(40).optional().openapi({ example: 'reading' }),
    learnerId: z.string().max(100).optional()
  })
  .openapi('SpeechRequest');

const SpanSchema = z.object({ start: z.number(), end: z.number() });
const FluencySchema = z
  .object({
    durationS: z.number(),
    speakingS: z.number().openapi({ description: 'First sound to last sound' }),
    phonationS: z.number().openapi({ description: 'Speaking time without the pauses' }),
    pauseCount: z.number().int().openapi({ description: 'Silences of 250 ms or more between sounds' }),
    meanPauseS: z.number(),
    longestPauseS: z.number(),
    pauses: z.array(SpanSchema),
    syllables: z.number().int().openapi({ description: 'Syllable nuclei (de Jong & Wempe 2009)' }),
    speechRate: z.number().openapi({ description: 'Syllables per second of speaking time' }),
    articulationRate: z.number().openapi({ description: 'Syllables per second of phonation' }),
    nuclei: z.array(z.number())
  })
  .openapi('FluencyMetrics');
const ProsodySchema = z
  .object({
    voicedFrames: z.number().int(),
    meanHz: z.number().nullable(),
    medianHz: z.number().nullable(),
    meanSemitones: z.number().nullable().openapi({ description: 'Semitones re 100 Hz' }),
    rangeSemitones: z.number().nullable().openapi({ description: '5th to 95th percentile of F0' }),
    sdSemitones: z.number().nullable()
  })
  .openapi('ProsodyMetrics');
const ContourSchema = z.object({
  stepS: z.number(),
  hz: z.array(z.number()).openapi({ description: 'F0 every `stepS` seconds; 0 where unvoiced' })
});
const ReadingSchema = z
  .object({
    correct: z.number().int(),
    substitutions: z.number().int(),
    omissions: z.number().int(),
    insertions: z.number().int(),
    referenceWords: z.number().int(),
    wordsCorrectPerMinute: z.number(),
    accuracy: z.number()
  })
  .openapi('ReadingMetrics');
const ArticulationErrorSchema = z
  .object({
    position: z.number().int().openapi({ description: 'The word’s place in the passage, from 0' }),
    expected: z.string(),
    said: z.string()
  })
  .openapi('ArticulationError');

const SegmentSchema = z.object({ start: z.number(), end: z.number(), text: z.string() });
const TranscriptionSchema = z
  .object({
    transcription: z.string(),
    language: z.string().nullable(),
    durationS: z.number(),
    segments: z.array(SegmentSchema).openapi({ description: 'The transcript in timed pieces (seconds)' }),
    model: z.string(),
    processingTimeMs: z.number()
  })
  .openapi('SpeechTranscription');

const AnalysisSchema = z
  .object({
    transcription: z.string().nullable().openapi({
      description: 'The transcript sent, else the server’s own; null when neither exists (no speech model here)'
    }),
    articulationErrors: z.array(ArticulationErrorSchema).openapi({
      description:
        'Words of the passage read as another word (needs `referenceText` and `transcript`); sounds within a word ' +
        'are not judged'
    }),
    fluencyMetrics: FluencySchema,
    prosodyMetrics: ProsodySchema,
    readingMetrics: ReadingSchema.nullable(),
    processingTimeMs: z.number()
  })
  .openapi('SpeechAnalysis');

const route = <P extends string, S extends z.ZodType>(path: P, summary: string, schema: S) =>
  createRoute({
    method: 'post',
    path,
    summary,
    middleware: [requireJson] as const,
    request: { body: { content: { 'application/json': { schema: SpeechRequestSchema } }, required: true } },
    responses: { 200: jsonResponse(schema, 'The measures'), ...errorResponses(...COMMON_ERRORS, 404, 503) }
  });

function articulationErrors(analysis: SpeechAnalysis): z.infer<typeof ArticulationErrorSchema>[] {
  let position = 0;
  return (analysis.reading?.ops ?? []).flatMap((op) => {
    if (op.op === 'insertion') {
      return [];
    }
    const at = position++;
    return op.op === 'substitution' ? [{ position: at, expected: op.reference, said: op.spoken }] : [];
  });
}

function readingMetrics(analysis: SpeechAnalysis): z.infer<typeof ReadingSchema> | null {
  if (!analysis.reading) {
    return null;
  }
  const { ops: _ops, ...counts } = analysis.reading;
  return counts;
}

/**
 * The seed classroom platform's speech endpoints, on the same analysis the app runs on device:
 * pauses, speaking and articulation rate and pitch from the recording alone, and the reading
 * scored word by word when the passage and a transcript come with it.
 */
export function speechRoutes(deps: { speech: SpeechAnalyzer; backends: BackendRegistry }) {
  type SpeechBody = z.infer<typeof SpeechRequestSchema>;
  /** The model that transcribes: the one asked for, else the first the server has (null: none). */
  const speechModel = (body: SpeechBody) =>
    body.model ?? deps.backends.models().find((model) => model.capabilities.includes('audio'))?.id ?? null;
  const transcribe = (body: SpeechBody, model: string, signal: AbortSignal): Promise<TranscriptionResult> =>
    deps.backends.forModel(model, 'audio').transcribe(
      {
        model,
        file: {
          bytes: new Uint8Array(Buffer.from(body.audioBase64, 'base64')),
          name: 'recording.wav',
          type: 'audio/wav',
          sampleRate: body.sampleRate,
          field: 'audioBase64'
        },
        language: body.language
      },
      { signal }
    );
  /**
   * The analysis, with the transcript sent or (`transcribing`, and a model here) the server's own.
   * The recording is measured first: that also refuses one too long or unreadable before any
   * transcription starts.
   */
  const measure = async (body: SpeechBody, signal: AbortSignal, transcribing = false) => {
    const started = performance.now();
    let analysis = await deps.speech.analyze(
      {
        audio: Buffer.from(body.audioBase64, 'base64'),
        sampleRate: body.sampleRate,
        reference: body.referenceText,
        transcript: body.transcript
      },
      signal
    );
    let transcript = body.transcript ?? null;
    const model = transcribing && transcript === null ? speechModel(body) : null;
    if (model) {
      transcript = (await transcribe(body, model, signal)).text;
      if (body.referenceText !== undefined) {
        analysis = { ...analysis, reading: scoreReading(body.referenceText, transcript, analysis.fluency.speakingS) };
      }
    }
    return { analysis, transcript, processingTimeMs: Math.round(performance.now() - started) };
  };
  const prosodyOf = ({ prosody: { contour: _c, stepS: _s, ...summary } }: SpeechAnalysis) => summary;

  return apiRouter<AuthEnv>()
    .openapi(
      route('/speech/analyze', 'Speech practice: fluency, prosody and the reading scored', AnalysisSchema),
      async (c) => {
        const { analysis, transcript, processingTimeMs } = await measure(c.req.valid('json'), c.req.raw.signal, true);
        return c.json(
          {
            transcription: transcript,
            articulationErrors: articulationErrors(analysis),
            fluencyMetrics: analysis.fluency,
            prosodyMetrics: prosodyOf(analysis),
            readingMetrics: readingMetrics(analysis),
            processingTimeMs
          },
          200
        );
      }
    )
    .openapi(
      route(
        '/speech/fluency',
        'Pauses, speaking and articulation rate',
        z.object({ fluencyMetrics: FluencySchema, processingTimeMs: z.number() })
      ),
      async (c) => {
        const { analysis, processingTimeMs } = await measure(c.req.valid('json'), c.req.raw.signal);
        return c.json({ fluencyMetrics: analysis.fluency, processingTimeMs }, 200);
      }
    )
    .openapi(
      route(
        '/speech/prosody',
        'Pitch: mean, range and the F0 contour',
        z.object({ prosodyMetrics: ProsodySchema, pitchContour: ContourSchema, processingTimeMs: z.number() })
      ),
      async (c) => {
        const { analysis, processingTimeMs } = await measure(c.req.valid('json'), c.req.raw.signal);
        const hz = Array.from(analysis.prosody.contour, (value) => Math.round(value * 10) / 10);
        return c.json(
          {
            prosodyMetrics: prosodyOf(analysis),
            pitchContour: { stepS: analysis.prosody.stepS, hz },
            processingTimeMs
          },
          200
        );
      }
    )
    .openapi(
      route(
        '/speech/articulation',
        'The passage read word by word: misread, left out and added words',
        z.object({
          articulationErrors: z.array(ArticulationErrorSchema),
          readingMetrics: ReadingSchema,
          processingTimeMs: z.number()
        })
      ),
      async (c) => {
        const body = c.req.valid('json');
        const heard = body.transcript !== undefined || speechModel(body) !== null;
        if (body.referenceText === undefined || !heard) {
          throw unprocessable(
            'Send the passage (referenceText) and what was said (transcript; this server has no speech model to ' +
              'transcribe it): the reading is scored against them',
            'transcript_required',
            body.referenceText === undefined ? 'referenceText' : 'transcript'
          );
        }
        const { analysis, processingTimeMs } = await measure(body, c.req.raw.signal, true);
        return c.json(
          {
            articulationErrors: articulationErrors(analysis),
            readingMetrics: readingMetrics(analysis)!,
            processingTimeMs
          },
          200
        );
      }
    )
    .openapi(route('/speech/transcribe', 'Speech to text, with timed segments', TranscriptionSchema), async (c) => {
      const body = c.req.valid('json');
      const model = speechModel(body);
      if (!model) {
        throw serviceUnavailable(
          'This server has no speech model: put Whisper (whisper-base) in its models folder, or configure an ' +
            'upstream with the audio capability',
          'no_speech_model'
        );
      }
      const started = performance.now();
      const result = await transcribe(body, model, c.req.raw.signal);
      return c.json(
        {
          transcription: result.text,
          language: result.language,
          durationS: result.durationS,
          segments: result.segments,
          model,
          processingTimeMs: Math.round(performance.now() - started)
        },
        200
      );
    });
}
