import { createServer, type AddressInfo } from 'node:net';

/** A TCP port on 127.0.0.1 that is free right now, so a test server's BASE_URL can be known before it listens. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
