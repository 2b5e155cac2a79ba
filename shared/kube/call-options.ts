import { Observable, type ConfigurationOptions, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

/** Per-call options that abort the request after `timeoutMs`, plus any extra headers. */
export function callOptions(timeoutMs: number, headers: Record<string, string> = {}): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(AbortSignal.timeout(timeoutMs));
          for (const [key, value] of Object.entries(headers)) context.setHeaderParam(key, value);
          return new Observable(Promise.resolve(context));
        },
        post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
