// Cloud Run function `destroy`: POST or DELETE {"name": "<instance>"} -> 200; POST /sweep (admins).
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
