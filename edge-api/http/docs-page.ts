interface Operation {
  summary?: string;
  description?: string;
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
  responses?: Record<string, { description?: string }>;
}

interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, object>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head'] as const;

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/**
 * The API reference as one static HTML page, rendered from the OpenAPI document: no script and
 * no CDN, so it works offline and under a strict CSP (tablets on a school network).
 */
export function docsPage(spec: OpenApiDocument): string {
  const operations = Object.entries(spec.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = (item as Partial<Record<(typeof METHODS)[number], Operation>>)[method];
      if (!operation) {
        return [];
      }
      const body = Object.values(operation.requestBody?.content ?? {})[0]
        ?.schema?.$ref?.split('/')
        .pop();
      const statuses = Object.entries(operation.responses ?? {})
        .map(([status, response]) => `<li><code>${escape(status)}</code> ${escape(response.description ?? '')}</li>`)
        .join('');
      return `<section>
  <h2><span class="method">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code></h2>
  <p>${escape(operation.summary ?? '')}</p>
  ${operation.description ? `<p class="muted">${escape(operation.description)}</p>` : ''}
  ${body ? `<p>Body: <code>${escape(body)}</code></p>` : ''}
  <ul>${statuses}</ul>
</section>`;
    })
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(spec.info.title)} — API reference</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  section { border-top: 1px solid #8884; padding-block: 0.5rem; }
  h2 { font-size: 1.05rem; }
  .method { display: inline-block; min-width: 4.5rem; font-weight: 700; }
  .muted { opacity: 0.75; }
</style>
</head>
<body>
<h1>${escape(spec.info.title)} <small>${escape(spec.info.version)}</small></h1>
<p>${escape(spec.info.description ?? '')}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors always have the shape
<code>{ "error": { "message", "type", "param", "code" } }</code>.</p>
${operations.join('\n')}
</body>
</html>`;
}
