import { flushSync, mount, unmount } from 'svelte';
import { afterEach, expect, it } from 'vitest';
import CitedAnswer from '#lib/components/CitedAnswer.svelte';
import PassageList from '#lib/components/PassageList.svelte';
import type { SearchHit } from '#lib/services/knowledge-search.service.ts';

const hit = (id: number, text: string, name: string): SearchHit => ({
  chunk: { id, documentId: id, baseId: 1, index: 0, text, start: 0, end: text.length, headingPath: ['Brewing'] },
  document: { id, baseId: 1, name, format: 'markdown', contentHash: `h${id}`, bytes: 1, chunkCount: 1, createdAt: 0 },
  relevance: 1,
  cosine: 0.9
});

const mounted: ReturnType<typeof mount>[] = [];
afterEach(async () => {
  await Promise.all(mounted.splice(0).map((component) => unmount(component)));
  document.body.replaceChildren();
});

it('a citation in an answer opens and focuses the passage it names, even inside a collapsed list', () => {
  const hits = [hit(1, 'Wait 30 seconds for the bloom.', 'guide.md'), hit(2, 'Pour in slow circles.', 'pour.md')];
  const answerTarget = document.body.appendChild(document.createElement('div'));
  const listTarget = document.body.appendChild(document.createElement('details'));
  mounted.push(
    mount(CitedAnswer, {
      target: answerTarget,
      props: { text: 'Bloom for 30 s [1], then pour [2]. See also [9].', count: 2, idPrefix: 'p-' }
    }),
    mount(PassageList, { target: listTarget, props: { hits, question: 'bloom', idPrefix: 'p-', label: 'Sources' } })
  );
  flushSync();

  const links = [...answerTarget.querySelectorAll('a')];
  expect(links.map((a) => a.textContent)).toEqual(['[1]', '[2]']);
  expect(answerTarget.textContent).toContain('See also [9].');
  const second = document.getElementById('p-2')!;
  second.querySelector('details')!.open = false;
  expect(listTarget.open).toBe(false);

  links[1]!.click();
  expect(listTarget.open).toBe(true);
  expect(second.querySelector('details')!.open).toBe(true);
  expect(document.activeElement).toBe(second);
  expect(second.textContent).toContain('[2] pour.md › Brewing');
  // The question's words are highlighted in the passages.
  expect(document.getElementById('p-1')!.querySelector('mark')?.textContent).toBe('bloom');
});
