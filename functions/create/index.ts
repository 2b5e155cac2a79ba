// Cloud Run function `create`: the operations that `shared/api/operations.ts` puts on it (their paths,
// methods and answers are that table's, listed in docs/api.md).
import { http } from '@google-cloud/functions-framework';
import { makeCreateHandler } from '../../shared/handlers/create-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadCreateRuntime } from '../../shared/runtime/create-runtime.ts';
import { warmUp } from '../../shared/runtime/warm-up.ts';

installJsonFrameworkErrors({ functionName: 'create' });
const runtime = loadCreateRuntime();
warmUp(runtime);
http('create', makeCreateHandler({ runtime }));
