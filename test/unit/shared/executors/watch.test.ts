import { text } from 'node:stream/consumers';
import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { serverSentEvents, toWatchEvent, type WatchEvent } from '../../../../client/instance-events.ts';
import { BadRequestError } from '../../../../shared/errors.ts';
import { watchInstances, type WatchContext } from '../../../../shared/executors/watch.ts';
import { allItems } from '../../../../shared/kube/cluster.ts';
import { WatchExpiredError, type DeploymentEvent, type DeploymentEventsClient } from '../../../../shared/kube/deployment-events.ts';
import { instanceOwnedBy } from '../../fakes/access.ts';
import { caller, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

/** Deployment events from the fake cluster's lists, and watches the test feeds by hand. */
function fakeEvents(w: World): DeploymentEventsClient & {
  watches: { selector: string; from: string; emit: (event: DeploymentEvent) => void; end: (error?: unknown) => void }[];
} {
  const watches: ReturnType<typeof fakeEvents>['watches'] = [];
  return {
    watches,
    list: async (labelSelector) => ({
      items: await allItems((continueToken) => w.cluster.listDeployments({ labelSelector, ...(continueToken ? { continueToken } : {}) })),
      resourceVersion: labelSelector.includes('shared') ? '500' : '100',
    }),
    watch: async ({ labelSelector, resourceVersion, onEvent }) => {
      let end!: (error?: unknown) => void;
      const ended = new Promise<void>((resolve, reject) => {
        end = (error) => (error === undefined ? resolve() : reject(error));
      });
      watches.push({ selector: labelSelector, from: resourceVersion, emit: onEvent, end });
      return { ended };
    },
  };
}

function watchAs(w: World, events: DeploymentEventsClient, email: string, limitMs = 60_000): WatchContext {
  return {
    ...w.context,
    caller: caller(email),
    deploymentEvents: events,
    limitMs,
    recheckMs: 60_000,
    signal: new AbortController().signal,
  };
}

async function eventsOf(body: string): Promise<{ events: WatchEvent[]; ids: string[] }> {
  const events: WatchEvent[] = [];
  const ids: string[] = [];
  for await (const raw of serverSentEvents(
    (async function* () {
      yield new TextEncoder().encode(body);
    })(),
  )) {
    if (raw.id !== undefined) ids.push(raw.id);
    const event = toWatchEvent(raw);
    if (event) events.push(event);
  }
  return { events, ids };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

describe('watchInstances', () => {
  it("lists the caller's instances, then sends each change whole with where both watches stand; a stranger's never", async () => {
    const w = world();
    const mine = await instanceOwnedBy(w, 'ada@example.com');
    const theirs = await instanceOwnedBy(w, 'bob@example.com');
    const events = fakeEvents(w);
    const { stream } = await watchInstances(watchAs(w, events, 'ada@example.com', 50), { all: false });
    expect(events.watches.map((watch) => watch.from)).toEqual(['100', '500']);
    const [owned] = events.watches;
    const deployment = (await events.list(owned!.selector)).items.find((d) => d.metadata?.name === mine) as V1Deployment;
    const other = (deployment.status?.readyReplicas ?? 0) === 1 ? 0 : 1;
    const stranger = (await w.cluster.readDeployment(theirs)) as V1Deployment;
    // The same object again: the view is as sent, so only the id moves on.
    owned!.emit({ type: 'MODIFIED', deployment, resourceVersion: '101' });
    owned!.emit({
      type: 'MODIFIED',
      deployment: { ...deployment, status: { ...deployment.status, readyReplicas: other } },
      resourceVersion: '102',
    });
    owned!.emit({ type: 'MODIFIED', deployment: stranger, resourceVersion: '103' });
    owned!.emit({ type: 'DELETED', deployment, resourceVersion: '104' });
    const body = await text(stream);
    expect(body).not.toContain(theirs);
    const { events: sent, ids } = await eventsOf(body);
    expect(sent.map((event) => event.type)).toEqual(['instance', 'synced', 'instance', 'deleted']);
    expect(sent[1]).toEqual({ type: 'synced', names: [mine], id: '100,500' });
    expect(sent[2]).toMatchObject({ instance: { name: mine, readyReplicas: other }, id: '102,500' });
    expect(sent[3]).toEqual({ type: 'deleted', name: mine, id: '104,500' });
    expect(ids).toEqual(['100,500', '101,500', '102,500', '103,500', '104,500']);
  });

  it('resumes from since without the listing, and on 410 sends everything again, closed by synced', async () => {
    const w = world();
    const mine = await instanceOwnedBy(w, 'ada@example.com');
    const events = fakeEvents(w);
    const { stream } = await watchInstances(watchAs(w, events, 'ada@example.com', 50), { all: false, since: ['90', '480'] });
    expect(events.watches.map((watch) => watch.from)).toEqual(['90', '480']);
    events.watches[1]!.end(new WatchExpiredError('too old'));
    await settle();
    expect(events.watches.slice(2).map((watch) => watch.from)).toEqual(['100', '500']);
    const { events: sent } = await eventsOf(await text(stream));
    expect(sent.map((event) => event.type)).toEqual(['instance', 'synced']);
    expect(sent[1]).toEqual({ type: 'synced', names: [mine], id: '100,500' });
  });

  it('on a resume, views again at the first recheck an instance still starting, whose pods may have changed meanwhile', async () => {
    const w = world();
    const mine = await instanceOwnedBy(w, 'ada@example.com');
    const events = fakeEvents(w);
    const context = { ...watchAs(w, events, 'ada@example.com', 100), recheckMs: 20 };
    const { stream } = await watchInstances(context, { all: false, since: ['90', '480'] });
    const { events: sent } = await eventsOf(await text(stream));
    expect(sent).toEqual([{ type: 'instance', instance: expect.objectContaining({ name: mine, state: 'starting' }), id: '90,480' }]);
  });

  it('refuses the id of a watch with another all', async () => {
    const w = world();
    await expect(watchInstances(watchAs(w, fakeEvents(w), 'ada@example.com'), { all: true, since: ['1', '2'] })).rejects.toThrow(
      BadRequestError,
    );
  });
});
