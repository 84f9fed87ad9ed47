/**
 * The HTTP side of observability for both processes: /metrics (Prometheus text format),
 * /healthz (the process is up) and /readyz (coordinator: serving gRPC; worker: registered).
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ERROR_CODES, OptfleetError } from '@optfleet/proto';

/** A registry with the process default metrics (CPU, memory, event loop, GC) under `optfleet_`. */
export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'optfleet_' });
  // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool
  // flags them); the same numbers stay available, by type, as optfleet_nodejs_active_{handles,requests,resources}.
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`optfleet_nodejs_${name}`);
  return registry;
}

export interface MetricsServerHandle {
  /** host:port actually bound. */
  readonly address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(listen: string, registry: Registry, ready: () => boolean): Promise<MetricsServerHandle> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(e)}\n`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
    }
  });
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new OptfleetError(
          ERROR_CODES.INVALID_ARGUMENT,
          `--metrics-listen ${listen}: ${e.code === 'EADDRINUSE' ? 'address in use (give each process its own port; port 0 picks a free one; "off" disables)' : e.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const bound =
    typeof addr === 'object' && addr !== null ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : listen;
  return {
    address: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
