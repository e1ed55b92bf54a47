import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The admin interface: `/metrics` for Prometheus, on its own address (loopback by default),
 * never on the public webhook and pay page interface. Undefined when it cannot listen: the
 * daemon keeps taking payments without metrics rather than stop, and says so.
 */
export async function startAdminServer(options: {
  host: string;
  port: number;
  scrape: () => Promise<{ contentType: string; body: string }>;
  log: Logger;
}): Promise<AdminServer | undefined> {
  const { log } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    options.scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        log.error(`metrics scrape failed: ${(error as Error).message}`);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('scrape failed\n');
      },
    );
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      log.error(
        `the admin interface cannot listen on ${options.host}:${options.port} (${error.code ?? error.message}): /metrics is off. Choose another http.adminPort, or 0 to turn it off`,
      );
      resolve(false);
    });
    server.listen(options.port, options.host, () => resolve(true));
  });
  if (!listening) return undefined;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
