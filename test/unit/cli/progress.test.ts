import { describe, expect, it } from 'vitest';
import { StepLines, type Progress } from '../../../cli/progress.ts';
import { progressLine } from '../../../shared/api/progress.ts';

function recorded(): Progress & { updates: string[]; lines: string[] } {
  const updates: string[] = [];
  const lines: string[] = [];
  return { updates, lines, update: (text) => void updates.push(text), done: (text) => void lines.push(text ?? '') };
}

describe('StepLines', () => {
  it('prints each step with the time since the one before, ready with the whole time, and a place in line on the status line only', () => {
    let now = 1_000;
    const progress = recorded();
    const steps = new StepLines(progress, 'creating', () => now);
    const at = new Date(0);
    steps.show(progressLine('queued', { ahead: 1 }, { at }));
    now += 400;
    steps.show(progressLine('slots', {}, { at, name: 'syncbased-1a2b3c4d' }));
    now += 1_250;
    steps.show(progressLine('disk', { pooled: true }, { at, name: 'syncbased-1a2b3c4d' }));
    now += 2_050;
    steps.show(progressLine('ready', {}, { at }));
    expect(progress.updates).toEqual(['queued: 2nd in line (1 ahead of you)']);
    expect(progress.lines).toEqual([
      'syncbased-1a2b3c4d: slot taken (0.4s)',
      'syncbased-1a2b3c4d: disk taken from the warm pool (1.3s)',
      'syncbased-1a2b3c4d: ready (3.7s)',
    ]);
    expect(steps.name).toBe('syncbased-1a2b3c4d');
  });
});
