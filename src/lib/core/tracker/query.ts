/**
 * Rule-based classification of what a user asks about their task. Rules beat a model here: the
 * question types are few, phrasings are formulaic, and it must answer in microseconds offline;
 * anything it is unsure of goes to the VLM/LLM fallback instead.
 */

export const QUERY_TYPES = [
  'current_step',
  'next_step',
  'steps_left',
  'how_to',
  'last_action',
  'go_back',
  'start_over',
  'unknown'
] as const;

export type QueryType = (typeof QUERY_TYPES)[number];

export interface QueryClassification {
  type: QueryType;
  /** 0–1: the matching rule's strength, lowered when another type also matched. */
  confidence: number;
}

interface Rule {
  type: Exclude<QueryType, 'unknown'>;
  pattern: RegExp;
  /** Specific phrasings score higher than loose keywords, so the specific one wins a clash. */
  score: number;
}

/** "the beginning" and friends: going back there is starting over, not one step back. */
const START = String.raw`(?:the )?(?:very )?(?:beginning|start|top|first step|step (?:1|one))`;

// Matched against normalised text: lower case, straight apostrophes, words separated by one space.
const RULES: readonly Rule[] = [
  {
    type: 'start_over',
    pattern: /\b(start|begin|do) (it |this |the task |everything |all )?(all )?(over|again|afresh|fresh)\b/,
    score: 0.95
  },
  {
    type: 'start_over',
    pattern: new RegExp(String.raw`\b(back to|from) (${START}|scratch|square one)\b`),
    score: 0.95
  },
  { type: 'start_over', pattern: /\b(re ?start|reset|redo (the |this )?(whole|entire))\b/, score: 0.9 },

  { type: 'go_back', pattern: /\bback (a|one|1) step\b/, score: 0.95 },
  { type: 'go_back', pattern: /\b(go|return|move|jump) (back )?to (the )?(previous|last|prior) step\b/, score: 0.95 },
  {
    type: 'go_back',
    // Not "back to step 4": one step back would be wrong there, so that is left to the fallback.
    pattern: new RegExp(String.raw`\b(go|going|step|move|take me|jump|head) back\b(?! to (${START}|(the )?step \w+))`),
    score: 0.9
  },
  { type: 'go_back', pattern: /\bredo (the |that )?(last|previous) step\b/, score: 0.85 },
  { type: 'go_back', pattern: /\b(undo|back up)\b/, score: 0.8 },
  { type: 'go_back', pattern: /\bprevious step\b/, score: 0.7 },

  {
    type: 'last_action',
    pattern: /\bwhat (step )?(did|have) (i|we) (just )?(do|did|done|finish|finished|complete|completed)\b/,
    score: 0.95
  },
  {
    type: 'last_action',
    pattern: /\bwhat (was|were) (the )?(last|previous|prior) (step|thing|action)s?\b/,
    score: 0.95
  },
  { type: 'last_action', pattern: /\b(did|have) (i|we) just\b|\bjust (did|done|finished|completed)\b/, score: 0.9 },
  { type: 'last_action', pattern: /\b(last|previous) (thing|action)\b/, score: 0.85 },
  { type: 'last_action', pattern: /\bwhat (was|were) (i|we) (just )?doing\b/, score: 0.8 },
  {
    type: 'last_action',
    pattern: /\b(did|have) (i|we) (already )?(finish|finished|complete|completed|do|done)\b/,
    score: 0.8
  },
  { type: 'last_action', pattern: /\bwhat (just )?happened\b/, score: 0.7 },

  { type: 'next_step', pattern: /\bwhat'?s next\b|\bwhat is next\b|\b(step|what) (is |comes )?next\b/, score: 0.95 },
  {
    type: 'next_step',
    pattern: /\bwhat (comes|happens|should i do|do i do|do i have to do|to do|now) (next|after (this|that))\b/,
    score: 0.95
  },
  { type: 'next_step', pattern: /\bnext step\b/, score: 0.9 },
  { type: 'next_step', pattern: /\b(then what|and then|after (this|that)( step)?)\b/, score: 0.75 },
  { type: 'next_step', pattern: /\bwhat now\b/, score: 0.7 },
  { type: 'next_step', pattern: /\bnext\b/, score: 0.6 },

  { type: 'steps_left', pattern: /\bhow many (more )?(steps|things|parts|stages)\b/, score: 0.95 },
  { type: 'steps_left', pattern: /\bhow many\b.*\b(left|to go|remaining|more)\b/, score: 0.9 },
  {
    type: 'steps_left',
    pattern: /\b(steps?|things?) (are |is )?(left|remaining|to go)\b|\b(remaining|left) steps\b/,
    score: 0.9
  },
  {
    type: 'steps_left',
    pattern: /\b(am i|are we) (almost|nearly|close to|about) (done|finished|there|through|finishing)\b/,
    score: 0.85
  },
  {
    type: 'steps_left',
    pattern: /\bhow (much|far) (more|longer|further|is left|left|to go)\b|\bhow close\b/,
    score: 0.85
  },
  { type: 'steps_left', pattern: /\bwhat'?s left\b|\bwhat is left\b|\bhow long (until|till|before)\b/, score: 0.85 },
  { type: 'steps_left', pattern: /\bprogress\b/, score: 0.6 },

  {
    type: 'current_step',
    pattern: /\b(what|which) step\b(?!.*\b(next|did|was|were|last|previous|left|remain|after|before)\b)/,
    score: 0.95
  },
  { type: 'current_step', pattern: /\bwhere (am i|are we|was i|were we)\b/, score: 0.9 },
  {
    type: 'current_step',
    pattern: /\bcurrent (step|stage|task)\b|\bwhat'?s this step\b|\bwhat is this step\b/,
    score: 0.9
  },
  { type: 'current_step', pattern: /\b(what|which) (stage|point|part|phase)\b/, score: 0.85 },
  { type: 'current_step', pattern: /\bwhat (am i|are we) (doing|on|up to)\b/, score: 0.85 },
  { type: 'current_step', pattern: /\bwhat (should|do) i (be )?do(ing)? (now|right now)\b/, score: 0.7 },
  { type: 'current_step', pattern: /\bstatus\b/, score: 0.6 },

  { type: 'how_to', pattern: /\bshow me how\b|\bteach me\b|\bwalk me through\b|\bhow to\b/, score: 0.85 },
  { type: 'how_to', pattern: /\bhow (do|does|should|can|could|would|am) (i|we|you|this|it|that)\b/, score: 0.8 },
  {
    type: 'how_to',
    pattern: /\bi'?m stuck\b|\b(don'?t|do not) (understand|get it|know how|know what)\b|\bconfused\b/,
    score: 0.75
  },
  {
    type: 'how_to',
    pattern: /\bwhat (exactly )?(should|do|must|am) i (supposed to )?do\b(?! (next|now|right now|after|then)\b)/,
    score: 0.7
  },
  { type: 'how_to', pattern: /\b(explain|instructions?|directions|tips?|hints?|advice|guide me)\b/, score: 0.7 },
  { type: 'how_to', pattern: /\bhelp\b/, score: 0.55 }
];

/** Lower case, curly quotes straightened, punctuation dropped, so rules see one spelling of each phrasing. */
export function normaliseQuery(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Classifies a question or command about the task. The best-scoring rule's type wins (rule order
 * breaks ties); its score is the confidence, lowered by half of how far the best other type's
 * score exceeds 0.4, since two readings of one sentence make either less certain. No match is
 * `unknown` with confidence 0.
 */
export function classifyQuery(text: string): QueryClassification {
  const normalised = normaliseQuery(text);
  const best = new Map<QueryType, number>();
  for (const rule of RULES) {
    if ((best.get(rule.type) ?? 0) < rule.score && rule.pattern.test(normalised)) {
      best.set(rule.type, rule.score);
    }
  }
  let type: QueryType = 'unknown';
  let score = 0;
  let runnerUp = 0;
  for (const [candidate, s] of best) {
    if (s > score) {
      runnerUp = score;
      type = candidate;
      score = s;
    } else if (s > runnerUp) {
      runnerUp = s;
    }
  }
  const confidence = score - 0.5 * Math.max(0, runnerUp - 0.4);
  return { type, confidence: Math.round(confidence * 1000) / 1000 };
}
