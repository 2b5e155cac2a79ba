import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorApiError, AllocatorClient, type ProgressLine } from '../../../client/index.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';

let stack: TestStack;
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
  stack = await startTestStack({
    prefix: 'progress',
    overrides: { ALLOCATOR_MAX_INSTANCES_PER_USER: '2', ALLOCATOR_RESTORE_WINDOW_SECONDS: '3600' },
  });
  route('syncbase', stack.urls);
});
afterAll(async () => {
  await gateway?.stop();
  await stack?.stop();
});

function route(prefix: string, urls: FunctionUrls): void {
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/${prefix}-${name}`, urls[name]);
}

const clientFor = (email: string, prefix = 'syncbase'): AllocatorClient =>
  new AllocatorClient({ allocator: gateway.allocatorFor(prefix), auth: stack.tokenFor(email), retry: { attempts: 1 } });

/** Collects an operation's progress lines. */
function recorder(): { lines: ProgressLine[]; onProgress: (line: ProgressLine) => void } {
  const lines: ProgressLine[] = [];
  return { lines, onProgress: (line) => void lines.push(line) };
}

const POD_STEPS = ['scheduled', 'pulled', 'started', 'ready'];

function expectInOrder(lines: readonly ProgressLine[], name: string): void {
  const times = lines.map((line) => Date.parse(line.at));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  for (const line of lines) expect(line).toMatchObject({ name, message: expect.any(String) });
}

describe('progress streamed by the operations that bring an instance up, read through the typed client', () => {
  it('create: each step once and in order, named, with its time; the answer is the ready instance', async () => {
    const { lines, onProgress } = recorder();
    const instance = await clientFor('pat@example.com').create({ onProgress });
    expect(instance.state).toBe('ready');
    expect(lines.map((line) => line.step)).toEqual(['slots', 'disk', 'deployment', ...POD_STEPS]);
    expect(lines.find((line) => line.step === 'disk')).toMatchObject({ pooled: false, message: 'disk ready' });
    expectInOrder(lines, instance.name);
  });

  it('resume, restart and reset: their own steps, the pods of this operation only', async () => {
    const client = clientFor('quin@example.com');
    const { name } = await client.create();
    await client.suspend(name);
    const resumed = recorder();
    expect((await client.resume(name, { onProgress: resumed.onProgress })).state).toBe('ready');
    expect(resumed.lines.map((line) => line.step)).toEqual(['deployment', ...POD_STEPS]);
    expectInOrder(resumed.lines, name);

    const restarted = recorder();
    await client.restart(name, { onProgress: restarted.onProgress });
    expect(restarted.lines.map((line) => line.step)).toEqual(['deployment', ...POD_STEPS]);

    const reset = recorder();
    await client.reset(name, { onProgress: reset.onProgress });
    expect(reset.lines.map((line) => line.step)).toEqual(['stopped', 'disk', 'deployment', ...POD_STEPS]);
    expectInOrder(reset.lines, name);
  });

  it('restore: the slots again, the kept disk, the Deployment and its pods', async () => {
    const client = clientFor('rio@example.com');
    const { name } = await client.create();
    await client.destroy(name);
    const restored = recorder();
    expect((await client.restore(name, { onProgress: restored.onProgress })).state).toBe('ready');
    expect(restored.lines.map((line) => line.step)).toEqual(['slots', 'disk', 'deployment', ...POD_STEPS]);
    expectInOrder(restored.lines, name);
  });

  it('a refusal is the last line, read as the error it would have been: the per-user limit', async () => {
    const client = clientFor('sol@example.com');
    await client.create({ wait: false });
    await client.create({ wait: false });
    const { lines, onProgress } = recorder();
    const refused = await client.create({ onProgress }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AllocatorApiError);
    expect(refused).toMatchObject({ status: 429, code: 'RESOURCE_EXHAUSTED' });
    expect(lines).toEqual([]);
  });

  it("tells what keeps an instance waiting, then the wait's 504, and removes it", async () => {
    const urls = await stack.variant({
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../fixtures/templates/unschedulable.json.hbs', import.meta.url)),
    });
    route('unschedulable', urls);
    const { lines, onProgress } = recorder();
    const failed = await clientFor('tam@example.com', 'unschedulable')
      // Long enough for the problem checks (at about 1, 2.5, 4.75 and 8 s) to catch the pod unscheduled under load.
      .create({ waitTimeoutSeconds: 12, onProgress })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ status: 504, code: 'DEADLINE_EXCEEDED', message: expect.stringMatching(/it was removed/) });
    expect(lines.map((line) => line.step)).toEqual(['slots', 'disk', 'deployment', 'problems']);
    expect(lines.at(-1)).toMatchObject({
      problems: [expect.objectContaining({ reason: 'FailedScheduling', permanent: false })],
      message: expect.stringMatching(/^waiting: FailedScheduling: .*Insufficient cpu/),
    });
    expect(await clientFor('tam@example.com', 'unschedulable').list()).toEqual([]);
  });
});
