import { Agent, createServer, get, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpServerDrain } from './http-server-drain';

/** A server whose answers take `?ms=` milliseconds. */
async function slowServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    const timer = setTimeout(() => res.end('ok'), ms);
    res.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function request(port: number, path: string, agent: Agent): Promise<{ status?: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('HttpServerDrain', () => {
  const agents: Agent[] = [];
  const servers: Server[] = [];

  function keepAliveAgent(): Agent {
    const agent = new Agent({ keepAlive: true });
    agents.push(agent);
    return agent;
  }

  async function start(): Promise<{ server: Server; port: number; drain: HttpServerDrain }> {
    const { server, port } = await slowServer();
    servers.push(server);
    return { server, port, drain: new HttpServerDrain(server) };
  }

  afterEach(() => {
    for (const agent of agents.splice(0)) agent.destroy();
    for (const server of servers.splice(0)) server.closeAllConnections();
  });

  it('closes at once when only idle keep-alive connections are open', async () => {
    const { port, drain } = await start();
    const agent = keepAliveAgent();
    await request(port, '/', agent);
    const result = await drain.close(5_000);
    expect(result.cutOff).toBe(0);
    expect(result.ms).toBeLessThan(200);
  });

  it('lets a request under way finish, answered with Connection: close, and then closes', async () => {
    const { port, drain } = await start();
    const agent = keepAliveAgent();
    await request(port, '/', agent); // a keep-alive connection, reused below
    const slow = request(port, '/?ms=300', agent);
    await new Promise((r) => setTimeout(r, 50));
    expect(drain.inFlight).toBe(1);
    const closed = drain.close(5_000);
    const answer = await slow;
    expect(answer.body).toBe('ok');
    expect(answer.headers.connection).toBe('close');
    const result = await closed;
    expect(result.cutOff).toBe(0);
    expect(result.ms).toBeGreaterThanOrEqual(200);
    expect(result.ms).toBeLessThan(1_000); // not the 5 s keep-alive timeout
  });

  it('refuses new connections once closing', async () => {
    const { port, drain } = await start();
    const agent = keepAliveAgent();
    const slow = request(port, '/?ms=300', agent);
    await new Promise((r) => setTimeout(r, 50));
    const closed = drain.close(5_000);
    await expect(request(port, '/', new Agent())).rejects.toThrow(/ECONNREFUSED/);
    await slow;
    await closed;
  });

  it('destroys the connections still busy at the deadline and counts them', async () => {
    const { port, drain } = await start();
    const agent = keepAliveAgent();
    const hanging = request(port, '/?ms=10000', agent).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const result = await drain.close(200);
    expect(result.cutOff).toBe(1);
    expect(result.ms).toBeGreaterThanOrEqual(190);
    expect(result.ms).toBeLessThan(1_000);
    expect(String(await hanging)).toMatch(/socket hang up|ECONNRESET/);
  });

  it('leaves a second server.close() (Nest closes the server again) to resolve', async () => {
    const { server, drain } = await start();
    await drain.close(1_000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await drain.close(1_000)).toMatchObject({ cutOff: 0 });
  });
});
