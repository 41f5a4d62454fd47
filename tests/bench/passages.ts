/**
 * Deterministic knowledge-base passages for the embedding benchmarks (the browser and the Node
 * reference embed exactly the same texts): ~`words` words each, like the chunker's output.
 */
export function benchPassages(count: number, words = 120): string[] {
  const vocabulary = (
    'grind the beans medium fine then bloom the coffee with water just off the boil and wait thirty seconds ' +
    'while the grounds release gas pour slowly in circles until the scale reads two hundred fifty grams ' +
    'rinse the burette fill it with sodium hydroxide record the initial volume add indicator swirl the flask'
  ).split(' ');
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: count }, (_, i) =>
    [`Passage ${i}.`, ...Array.from({ length: words }, () => vocabulary[Math.floor(next() * vocabulary.length)])].join(
      ' '
    )
  );
}
