import { mermaidDiagram } from './transitions.ts';

/** The marker comments docs/architecture.md's state diagram sits between. */
export const DIAGRAM_START = '<!-- phases: written by `npm run docs:api` from shared/model/transitions.ts; edit them there -->';
export const DIAGRAM_END = '<!-- end of phases -->';

/** Replaces what lies between the two marker comments with the state diagram, as a Mermaid block GitHub draws. */
export function withStateDiagram(markdown: string): string {
  const start = markdown.indexOf(DIAGRAM_START);
  const end = markdown.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) throw new Error(`no "${DIAGRAM_START}" ... "${DIAGRAM_END}" markers`);
  return `${markdown.slice(0, start + DIAGRAM_START.length)}\n\`\`\`mermaid\n${mermaidDiagram()}\n\`\`\`\n${markdown.slice(end)}`;
}
