// Cloud Run function `list`: GET [?all=true] -> 200 {"instances": [...]}. Never loads the compute client.
import { http } from '@google-cloud/functions-framework';
import { makeListHandler } from '../../shared/handlers/list-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadRuntime } from '../../shared/runtime.ts';

installJsonFrameworkErrors();
http('list', makeListHandler(loadRuntime()));
