/**
 * Reads answers aloud with the browser's speech synthesis. Whether the user wants it, and the
 * voice and speed, are kept on this device; the app settings have no entry for them yet, so they
 * live in localStorage.
 */
const KEY = 'vision-hub:read-aloud';
const VOICE_KEY = 'vision-hub:read-aloud-voice';

/** How the answers are spoken: a voice by its URI (null: the browser's default) and a speed. */
export interface SpeechVoice {
  voiceUri: string | null;
  /** speechSynthesis' rate: 1 is normal, 0.5 half as fast, 2 twice. */
  rate: number;
}

export const DEFAULT_VOICE: SpeechVoice = { voiceUri: null, rate: 1 };
export const RATE_RANGE = { min: 0.5, max: 2 } as const;

/** Whether this browser can speak at all (some, and most test browsers, have no voices API). */
export function canReadAloud(): boolean {
  return typeof speechSynthesis !== 'undefined' && typeof SpeechSynthesisUtterance !== 'undefined';
}

export function loadReadAloud(): boolean {
  return canReadAloud() && localStorage.getItem(KEY) === 'on';
}

export function saveReadAloud(on: boolean): void {
  localStorage.setItem(KEY, on ? 'on' : 'off');
}

export function loadVoice(): SpeechVoice {
  try {
    const saved = JSON.parse(localStorage.getItem(VOICE_KEY) ?? 'null') as Partial<SpeechVoice> | null;
    const rate = Number(saved?.rate);
    return {
      voiceUri: typeof saved?.voiceUri === 'string' ? saved.voiceUri : null,
      rate: rate >= RATE_RANGE.min && rate <= RATE_RANGE.max ? rate : DEFAULT_VOICE.rate
    };
  } catch {
    return DEFAULT_VOICE;
  }
}

export function saveVoice(voice: SpeechVoice): void {
  localStorage.setItem(VOICE_KEY, JSON.stringify(voice));
}

/** Speaks `text`, cutting off whatever was being read: the newest answer is the one that matters. */
export function speak(text: string, voice: SpeechVoice = DEFAULT_VOICE): void {
  if (!canReadAloud()) {
    return;
  }
  speechSynthesis.cancel();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.rate = voice.rate;
  // A voice that is gone (another device, an uninstalled language) falls back to the default.
  const chosen = voice.voiceUri && speechSynthesis.getVoices().find((v) => v.voiceURI === voice.voiceUri);
  if (chosen) {
    utterance.voice = chosen;
    utterance.lang = chosen.lang;
  }
  speechSynthesis.speak(utterance);
}

export function stopSpeaking(): void {
  if (canReadAloud()) {
    speechSynthesis.cancel();
  }
}
