import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, sendJson } from './http.ts';

/**
 * A loopback gateway in front of the three functions, routing
 * `/<name>-create`, `/<name>-destroy` and `/<name>-list` the way
 * cloudfunctions.net routes function names, so that one allocator value
 * (`http://127.0.0.1:<port>/<name>`) names a local allocator. Tests use it
 * to drop responses: the function does its work, the caller never hears.
 */
export interface Gateway {
  readonly url: string;
  /** The allocator value that names the routed functions. */
  allocatorFor(name: string): string;
  route(path: string, target: string): void;
  /** The next `count` requests to `path` are served, and then the connection is cut. */
  dropNextResponses(path: string, count?: number): void;
  stop(): Promise<void>;
}

export async function startGateway(): Promise<Gateway> {
  const routes = new Map<string, string>();
  const drops = new Map<string, number>();
  const server = createServer((req, res) => forward(req, res));

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const incoming = new URL(req.url ?? '/', 'http://gateway');
    // `/<name>-create/extend` goes to the create function's `/extend`.
    const prefix = [...routes.keys()].find((path) => incoming.pathname === path || incoming.pathname.startsWith(`${path}/`));
    const target = prefix === undefined ? undefined : routes.get(prefix);
    if (prefix === undefined || target === undefined) {
      sendJson(res, 404, { error: { code: 404, status: 'NOT_FOUND', message: `no function at ${incoming.pathname}` } });
      return;
    }
    const dropping = (drops.get(prefix) ?? 0) > 0;
    if (dropping) drops.set(prefix, (drops.get(prefix) ?? 1) - 1);
    const url = new URL(target);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${incoming.pathname.slice(prefix.length)}` || '/';
    url.search = incoming.search;
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
      if (dropping) {
        answer.resume();
        answer.once('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.destroyed) sendJson(res, 502, { error: { code: 502, status: 'UNAVAILABLE', message: `gateway: ${error.message}` } });
    });
    // A caller that goes away cuts the forwarded request too, as Cloud Run's front end does: the function sees it close.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  const url = await listenOnLoopback(server);
  return {
    url,
    allocatorFor: (name) => `${url}/${name}`,
    route: (path, target) => void routes.set(path, target),
    dropNextResponses: (path, count = 1) => void drops.set(path, count),
    stop: () => closeServer(server),
  };
}
