/**
 * The voices the browser offers for spoken answers, for the voice picker only (it loads with the
 * picker, not with the camera page).
 */

/** A voice the user can choose, named as the browser names it. */
export interface VoiceChoice {
  uri: string;
  label: string;
}

/**
 * The voices this browser has, local ones first (they work offline; the others may send the
 * text to a speech service), and `onChange` when the list arrives or changes: browsers load it
 * after the page. Returns the unsubscribe.
 */
export function watchVoices(onChange: (voices: VoiceChoice[]) => void): () => void {
  if (typeof speechSynthesis === 'undefined') {
    return () => undefined;
  }
  const read = () =>
    onChange(
      speechSynthesis
        .getVoices()
        .toSorted((a, b) => Number(b.localService) - Number(a.localService) || a.name.localeCompare(b.name))
        .map((voice) => ({
          uri: voice.voiceURI,
          label: `${voice.name} (${voice.lang})${voice.localService ? '' : ' · online'}`
        }))
    );
  read();
  speechSynthesis.addEventListener('voiceschanged', read);
  return () => speechSynthesis.removeEventListener('voiceschanged', read);
}
