// Makes an API key for a programmatic client of the edge API.
//
//   node scripts/api-key.ts <tenant> <name>
//
// Prints the key once (the server never stores it) and the `tenant:name:sha256` entry to append
// to API_KEYS. <name> tells keys of one tenant apart, so one can be rotated without the others.
import { createApiKey, isApiKeyName } from '../edge-api/security/api-keys.ts';
import { isTenant } from '../edge-api/security/principal.ts';

const USAGE = 'Usage: node scripts/api-key.ts <tenant> <name>   (e.g. acme ci)';
const ALPHABET = '1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const [tenant, name, ...extra] = process.argv.slice(2);
if (tenant === undefined || name === undefined || extra.length > 0) {
  fail('Expected exactly two arguments: the tenant and a name for the key.');
}
if (!isTenant(tenant)) {
  fail(`Invalid tenant "${tenant}": ${ALPHABET}.`);
}
if (!isApiKeyName(name)) {
  fail(`Invalid key name "${name}": ${ALPHABET}.`);
}

const { key, hash } = await createApiKey();
process.stdout.write(
  [
    `API key for tenant "${tenant}", named "${name}". It is shown only now: store it in the client's secrets.`,
    '',
    `  ${key}`,
    '',
    'Add this entry to API_KEYS (comma-separated with any others), then restart the edge API:',
    '',
    `  ${tenant}:${name}:${hash}`,
    ''
  ].join('\n')
);
