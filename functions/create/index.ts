// Cloud Run function `create`: POST {"wait"?, "waitTimeoutSeconds"?, "lifetimeSeconds"?} -> 201 instance; POST /extend.
import { http } from '@google-cloud/functions-framework';
import { makeCreateHandler } from '../../shared/handlers/create-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadCreateRuntime } from '../../shared/runtime/create-runtime.ts';
import { warmUp } from '../../shared/runtime/warm-up.ts';

installJsonFrameworkErrors({ functionName: 'create' });
const runtime = loadCreateRuntime();
warmUp(runtime);
http('create', makeCreateHandler({ runtime }));
