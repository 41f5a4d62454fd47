import { db, type Observation } from '#lib/db/index.ts';

export async function recentObservations(limit = 50): Promise<Observation[]> {
  return db.observations.orderBy('createdAt').reverse().limit(limit).toArray();
}

export async function addObservation(observation: Omit<Observation, 'id'>): Promise<Observation> {
  const id = await db.observations.add(observation as Observation);
  return { ...observation, id };
}

/** Deletes the history and hands back what was deleted, so the UI can offer undo. */
export async function clearObservations(): Promise<Observation[]> {
  return db.transaction('rw', db.observations, async () => {
    const all = await db.observations.toArray();
    await db.observations.clear();
    return all;
  });
}

/** Deletes one answer from the history and hands it back, so the UI can offer undo; undefined if it was gone. */
export async function deleteObservation(id: number): Promise<Observation | undefined> {
  return db.transaction('rw', db.observations, async () => {
    const row = await db.observations.get(id);
    await db.observations.delete(id);
    return row;
  });
}

export async function restoreObservations(observations: Observation[]): Promise<void> {
  await db.observations.bulkPut(observations);
}

/** A small JPEG of the frame for the history list (the frame itself goes to the model). */
export async function thumbnailOf(
  source: CanvasImageSource,
  width: number,
  height: number,
  maxSide = 160
): Promise<Blob> {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
  canvas.getContext('2d')?.drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.7 });
}

/** A thumbnail (or any image blob) as a data: URL, as the edge API takes images inside JSON. */
export function dataUrlOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('The image could not be read'));
    reader.readAsDataURL(blob);
  });
}
