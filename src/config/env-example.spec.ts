import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../common/paths';
import { envSchema } from './config.schema';

/** `.env.example` and docs/configuration.md must document every variable the schema reads, with its real default. */
describe('.env.example and docs/configuration.md', () => {
  const keys = Object.keys(envSchema.shape).sort();
  const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
  const entries = new Map(
    example
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );

  it('lists exactly the variables of the schema', () => {
    expect([...entries.keys()].sort()).toEqual(keys);
  });

  it('gives each variable its actual default (or leaves it empty when there is none)', () => {
    for (const [key, value] of entries) {
      const schema = envSchema.shape[key as keyof typeof envSchema.shape];
      expect([key, schema.parse(value === '' ? undefined : value)]).toEqual([key, schema.parse(undefined)]);
    }
  });

  it('has every variable in the configuration table', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(keys);
  });
});
