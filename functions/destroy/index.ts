// Cloud Run function `destroy`: the operations that `shared/api/operations.ts` puts on it (their paths,
// methods and answers are that table's, listed in docs/api.md).
import { http } from '@google-cloud/functions-framework';
import { makeDestroyHandler } from '../../shared/handlers/destroy-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadDestroyRuntime } from '../../shared/runtime/destroy-runtime.ts';
import { warmUp } from '../../shared/runtime/warm-up.ts';

installJsonFrameworkErrors({ functionName: 'destroy' });
// No template setting, no template engine: destroy renders nothing.
const runtime = loadDestroyRuntime();
warmUp(runtime);
http('destroy', makeDestroyHandler({ runtime }));
