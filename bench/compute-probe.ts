// Child of `npm run bench`: loads the disk clients one way (argv[2]), makes
// the first call against the emulator (argv[3]), and prints the time from
// process start and the RSS, as JSON.
import { OAuth2Client } from 'google-auth-library';
import { makeDisksApi } from '../shared/gce/disks.ts';

const [mode, endpoint] = process.argv.slice(2) as [string, string];
const project = 'bench-project';
const zone = 'us-central1-c';
const authClient = new OAuth2Client();
authClient.setCredentials({ access_token: 'local-emulator' });

if (mode === 'package-index') {
  // What disks.ts did before: the package's index, which loads all of its clients.
  const specifier = '@google-cloud/compute'; // not a literal, so that a bundle leaves it out
  const { DisksClient, ZoneOperationsClient } = (await import(specifier)) as typeof import('@google-cloud/compute');
  const url = new URL(endpoint);
  const options = { apiEndpoint: url.hostname, port: Number(url.port), protocol: 'http', authClient };
  const [disks] = [new DisksClient(options), new ZoneOperationsClient(options)];
  await disks.get({ project, zone, disk: 'absent' }).catch((error: { code?: number }) => {
    if (error.code !== 5) throw error;
  });
} else {
  if ((await makeDisksApi({ project, zone, endpoint, authClient, timeoutMs: 30_000 }).getDisk('absent')) !== undefined)
    throw new Error('found a disk named absent');
}
console.log(JSON.stringify({ ms: performance.now(), rssMb: process.memoryUsage().rss / 1048576 }));
