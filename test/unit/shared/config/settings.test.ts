import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../../shared/config/settings.ts';
import { settingsMarkdown, withSettingsTable } from '../../../../shared/config/settings-table.ts';

describe('docs/deploy.md agrees with the table of settings', () => {
  const docs = readFileSync(new URL('../../../../docs/deploy.md', import.meta.url), 'utf8');

  it('carries the generated table between its markers (npm run docs:api writes it)', () => {
    expect(withSettingsTable(docs)).toBe(docs);
    expect(docs).toContain(settingsMarkdown());
  });

  // Read from the committed file itself, not from the generator that wrote it.
  const documented = [...docs.matchAll(/^\| `(ALLOCATOR_[A-Z_]+)` \| .* \| (.*) \|$/gm)].map(([, env, fallback]) => ({ env, fallback }));

  it.each(Object.values(SETTINGS).map((setting) => [setting.env, setting] as const))('gives %s once, with its default', (env, setting) => {
    expect(documented.filter((row) => row.env === env)).toEqual([{ env, fallback: setting.defaultText }]);
  });
});

describe('the settings cloudbuild.yaml passes', () => {
  const cloudbuild = readFileSync(new URL('../../../../cloudbuild.yaml', import.meta.url), 'utf8');
  const declared = new Set(Object.values(SETTINGS).map((setting) => setting.env));

  it.each([...new Set(cloudbuild.match(/ALLOCATOR_[A-Z_]+/g))])('declares %s', (env) => {
    expect(declared).toContain(env);
  });
});
