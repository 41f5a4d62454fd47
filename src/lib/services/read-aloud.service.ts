/**
 * Reads answers aloud with the browser's speech synthesis. Whether the user wants it is kept on
 * this device; the app settings have no entry for it yet, so it lives in localStorage.
 */
const KEY = 'vision-hub:read-aloud';

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

/** Speaks `text`, cutting off whatever was being read: the newest answer is the one that matters. */
export function speak(text: string): void {
  if (!canReadAloud()) {
    return;
  }
  speechSynthesis.cancel();
  speechSynthesis.speak(new SpeechSynthesisUtterance(text));
}

export function stopSpeaking(): void {
  if (canReadAloud()) {
    speechSynthesis.cancel();
  }
}
