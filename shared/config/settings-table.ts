import { SETTINGS, type Setting } from './settings.ts';

/** The marker comments docs/deploy.md's table of settings sits between. */
export const SETTINGS_TABLE_START = '<!-- settings: written by `npm run docs:api` from shared/config/settings.ts; edit them there -->';
export const SETTINGS_TABLE_END = '<!-- end of settings -->';

/**
 * The Markdown table of every setting that docs/deploy.md carries under
 * "## Configuration", generated from {@link SETTINGS} so that the docs cannot
 * drift (`npm run docs:api` writes it; a test checks it).
 */
export function settingsMarkdown(): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const rows = (Object.values(SETTINGS) as Setting<unknown>[]).map(
    (setting) => `| \`${setting.env}\` | ${cell(setting.meaning)} | ${cell(setting.defaultText)} |`,
  );
  return ['| setting | meaning | default |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Replaces what lies between the two marker comments of a Markdown text with the table of settings. */
export function withSettingsTable(markdown: string): string {
  const start = markdown.indexOf(SETTINGS_TABLE_START);
  const end = markdown.indexOf(SETTINGS_TABLE_END);
  if (start < 0 || end < start) throw new Error(`no "${SETTINGS_TABLE_START}" ... "${SETTINGS_TABLE_END}" markers`);
  return `${markdown.slice(0, start + SETTINGS_TABLE_START.length)}\n${settingsMarkdown()}\n${markdown.slice(end)}`;
}
