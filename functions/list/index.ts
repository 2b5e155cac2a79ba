// Cloud Run function `list`: the operations that `shared/api/operations.ts` puts on it (their paths,
// methods and answers are that table's, listed in docs/api.md), `/openapi.json` and the dashboard's files.
// Never loads the compute client.
import { fileURLToPath } from 'node:url';
import { http } from '@google-cloud/functions-framework';
import { makeListHandler } from '../../shared/handlers/list-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadListRuntime } from '../../shared/runtime/list-runtime.ts';
import { warmUp } from '../../shared/runtime/warm-up.ts';

installJsonFrameworkErrors({ functionName: 'list' });
// The list runtime only: no template engine, no compute client, not even a reference to them.
// The dashboard's files sit beside this file, in the sources and in the bundle alike.
const runtime = loadListRuntime();
warmUp(runtime);
http('list', makeListHandler({ runtime, dashboardDir: fileURLToPath(new URL('./dashboard/', import.meta.url)) }));
