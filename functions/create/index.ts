// Cloud Run function `create`: POST {"wait"?: bool, "waitTimeoutSeconds"?: n} -> 201 instance.
import { http } from '@google-cloud/functions-framework';
import { makeCreateHandler } from '../../shared/handlers/create-handler.ts';
import { installJsonFrameworkErrors } from '../../shared/http/framework-errors.ts';
import { loadRuntime } from '../../shared/runtime.ts';

installJsonFrameworkErrors();
http('create', makeCreateHandler(loadRuntime()));
