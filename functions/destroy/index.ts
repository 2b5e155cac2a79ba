// Cloud Run function `destroy`: POST or DELETE {"name": "<instance>"} -> 200.
import { http } from '@google-cloud/functions-framework';
import { makeDestroyHandler } from '../../shared/handlers/destroy-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadDestroyRuntime } from '../../shared/destroy-runtime.ts';

installJsonFrameworkErrors();
http('destroy', makeDestroyHandler(loadDestroyRuntime()));
