/**
 * Which model answers a camera question: the question's intent, what each model is good at, where
 * it runs and what is installed give an ordered list of candidates; the first answers and, when it
 * fails to load or answer, the next one does. Seed 000's `VLM_MODEL_SELECTION=auto` with
 * `VLM_FALLBACK_ENABLED` is this rule, made per question.
 */
import type { ModelEntry } from './manifest.ts';
import { isVlmArchitecture, type VlmArchitecture } from './vlm-types.ts';

/** What a question asks for, as far as choosing a model goes. */
export type Intent = 'describe' | 'read-text' | 'find' | 'count' | 'medical';

export const INTENT_WORDS: Record<Intent, string> = {
  describe: 'describing a scene',
  'read-text': 'reading text',
  find: 'finding things in the picture',
  count: 'counting things',
  medical: 'medical images'
};

// First match wins, in this order: "read the label on the pill bottle" is reading, not medicine.
const INTENT_PATTERNS: [Intent, RegExp][] = [
  ['read-text', /\b(read|text|written|writing|says?|sign|label|words?|letters?|ocr|transcribe|copy)\b/i],
  ['count', /\b(how many|count|number of)\b/i],
  ['find', /\b(where|find|locate|point (to|at)|show me)\b/i],
  [
    'medical',
    /\b(medical|x-?ray|wound|rash|lesion|mole|skin|symptoms?|injury|swelling|bruise|burn|ultrasound|mri|ct scan|dermat\w*|radiolog\w*)\b/i
  ]
];

/** The intent of a question, from its words; anything else is a request to describe. */
export function detectIntent(prompt: string): Intent {
  return INTENT_PATTERNS.find(([, pattern]) => pattern.test(prompt))?.[0] ?? 'describe';
}

/**
 * What each architecture the VLM worker runs does well, best first, and whether it answers any
 * question in words. Every one of them is listed: a new one does not compile until it says.
 */
const VISION_SKILLS: Record<VlmArchitecture, { skills: Intent[]; freeform: boolean }> = {
  // SmolVLM's training mix is heavy on documents and charts.
  idefics3: { skills: ['describe', 'read-text', 'count'], freeform: true },
  smolvlm: { skills: ['describe', 'read-text', 'count'], freeform: true },
  llava_onevision: { skills: ['describe', 'count', 'read-text'], freeform: true },
  moondream1: { skills: ['describe', 'count'], freeform: true },
  // Its tasks: OCR with regions, phrase grounding, detection, captions (see florence.ts).
  florence2: { skills: ['read-text', 'find', 'describe'], freeform: false }
};

/** {@link VISION_SKILLS} of a registry architecture; undefined for those that never answer the camera (embedders, text-only models). */
export function visionSkills(
  architecture: ModelEntry['architecture']
): { skills: Intent[]; freeform: boolean } | undefined {
  return isVlmArchitecture(architecture) ? VISION_SKILLS[architecture] : undefined;
}

/**
 * What an edge server's vision model does well. The server says only that a model sees, so its
 * name tells: MedGemma is for medical images; any other model there is a general one, larger than
 * the device's, that answers every kind of question.
 */
export function serverVisionSkills(modelId: string): { skills: Intent[]; freeform: true } {
  return /medgemma/i.test(modelId)
    ? { skills: ['medical', 'describe'], freeform: true }
    : { skills: ['describe', 'read-text', 'count', 'find'], freeform: true };
}

/** A model as the choice sees it. */
export interface ChoiceModel {
  id: string;
  name: string;
  /** What it does well, best first. */
  skills: readonly Intent[];
  /**
   * Answers any question in words. A task model (Florence-2: captions, text and boxes) only
   * answers the intents it lists.
   */
  freeform: boolean;
  /** `server`: the question and the image leave the device. */
  runsOn: 'device' | 'server';
  /** On the device: downloaded and runnable here (a variant fits this device). On a server: listed by it. */
  available: boolean;
}

export interface ChoiceContext {
  /** The user lets questions go to the edge server. */
  allowServer: boolean;
  online: boolean;
  /** A model the user chose for every question; null: choose per question. */
  pinned: string | null;
}

export interface Candidate<M extends ChoiceModel = ChoiceModel> {
  model: M;
  /** Why it is in this place, in the user's words ("Best at reading text"). */
  reason: string;
}

function usable(model: ChoiceModel, context: ChoiceContext): boolean {
  return model.available && (model.runsOn === 'device' || (context.allowServer && context.online));
}

/**
 * The models that may answer a question of `intent`, in the order to try them: models good at it
 * before those that merely can answer; on the device before the server (the picture stays
 * here); then those for which it is the main skill; then the registry's (curated) order. A
 * pinned model answers alone.
 */
export function chooseModels<M extends ChoiceModel>(
  intent: Intent,
  models: readonly M[],
  context: ChoiceContext
): Candidate<M>[] {
  if (context.pinned !== null) {
    const pinned = models.find((model) => model.id === context.pinned);
    return pinned && usable(pinned, context) ? [{ model: pinned, reason: 'Chosen by you for every question' }] : [];
  }
  const ranked = models
    .map((model, order) => ({ model, order, skill: model.skills.indexOf(intent) }))
    .filter(({ model, skill }) => usable(model, context) && (skill >= 0 || model.freeform))
    .sort(
      (a, b) =>
        Number(a.skill < 0) - Number(b.skill < 0) ||
        Number(a.model.runsOn === 'server') - Number(b.model.runsOn === 'server') ||
        a.skill - b.skill ||
        a.order - b.order
    );
  return ranked.map(({ model, skill }, index) => ({ model, reason: reasonFor(intent, skill >= 0, index === 0) }));
}

function reasonFor(intent: Intent, skilled: boolean, first: boolean): string {
  const task = INTENT_WORDS[intent];
  if (skilled) {
    return first ? `Best here at ${task}` : `Also good at ${task}`;
  }
  // Skilled models sort first: an unskilled first candidate means there is none.
  return first ? `Answers any question; none here is better at ${task}` : 'Answers any question';
}
