import type * as z from 'zod/mini';

type Issue = z.core.$ZodIssue;

/** `['steps', 2, 'title']` → `steps[2].title`, the way the JSON would be addressed in code. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out || '(root)';
}

/** zod/mini ships no locale, so its default message is "Invalid input": say what is wrong instead. */
function describe(issue: Issue): string {
  if (issue.message && issue.message !== 'Invalid input') {
    return issue.message;
  }
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must have at least ${Number(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'}`
        : `must be at least ${Number(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${Number(issue.maximum)}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'unrecognized_keys':
      return `has unknown keys ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

function article(expected: string): string {
  return expected === 'int' ? 'an integer' : /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** One line per problem, `path: what is wrong`, the first `max` of them and a count of the rest. */
export function formatIssues(issues: readonly Issue[], max = 5): string {
  const lines = issues.slice(0, max).map((issue) => `${formatPath(issue.path)}: ${describe(issue)}`);
  if (issues.length > max) {
    lines.push(`…and ${issues.length - max} more`);
  }
  return lines.join('\n');
}
