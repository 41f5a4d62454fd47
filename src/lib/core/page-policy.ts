/**
 * Whether the page itself forbids a request, worked out from the addresses and the page's
 * Content-Security-Policy: the browser says only "failed to fetch" when it blocks one, which
 * reads the same as a server that is down.
 */

export type PageBlock = 'mixed-content' | 'connect-src';

/** Hosts a browser counts as secure over http, so an https page may still call them. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The sources of `directive` in `policy`, falling back to default-src; null when neither is set. */
function sourcesOf(policy: string, directive: string): string[] | null {
  const directives = new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((tokens) => tokens[0])
      .map(([name, ...sources]) => [name!.toLowerCase(), sources] as const)
  );
  return directives.get(directive) ?? directives.get('default-src') ?? null;
}

/** One CSP source expression against a URL (CSP 3: `'self'`, `*`, schemes, hosts with `*.`, ports). */
function sourceAllows(source: string, target: URL, page: URL): boolean {
  const lower = source.toLowerCase();
  if (lower === "'self'") {
    return target.host === page.host && (target.protocol === page.protocol || target.protocol === 'https:');
  }
  if (lower === '*') {
    return target.protocol === 'http:' || target.protocol === 'https:' || target.protocol === page.protocol;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):$/.exec(lower);
  if (scheme) {
    // An http: source also allows the upgrade to https:.
    return target.protocol === lower || (lower === 'http:' && target.protocol === 'https:');
  }
  const host = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*\.)?([^:/]+)(?::(\d+|\*))?/.exec(lower);
  if (!host || lower.startsWith("'")) {
    return false;
  }
  const [, wantedScheme, wildcard, name, port] = host;
  const schemeOk = wantedScheme
    ? target.protocol === `${wantedScheme}:` || (wantedScheme === 'http' && target.protocol === 'https:')
    : target.protocol === page.protocol || target.protocol === 'https:';
  const hostOk = wildcard ? target.hostname.endsWith(`.${name}`) : target.hostname === name;
  const defaultPort = target.protocol === 'https:' ? '443' : '80';
  const portOk = port === '*' || (port ?? defaultPort) === (target.port || defaultPort);
  return schemeOk && hostOk && portOk;
}

/**
 * Why a page at `page` with the policies `policies` (its CSP meta tags' contents) may not fetch
 * `target`, or null when it may.
 */
export function pageBlocks(target: URL, page: URL, policies: readonly string[]): PageBlock | null {
  if (page.protocol === 'https:' && target.protocol === 'http:' && !isLoopback(target.hostname)) {
    return 'mixed-content';
  }
  for (const policy of policies) {
    const sources = sourcesOf(policy, 'connect-src');
    if (sources && !sources.some((source) => sourceAllows(source, target, page))) {
      return 'connect-src';
    }
  }
  return null;
}
