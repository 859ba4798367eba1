import { createServer, connect, type Server, type Socket } from 'node:net';

/** One proxied connection: what each side sent while the network was partitioned, held for later. */
interface Link {
  client: Socket;
  upstream: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP proxy in front of a server that can simulate a network partition: while
 * partitioned nothing passes in either direction and nothing is refused or closed
 * (packets are lost and retransmitted, as far as the ends can tell); new connections are
 * accepted and left hanging. heal() delivers what was held, in order, as TCP would once
 * its retransmissions get through. A side that closes its socket meanwhile closes the
 * other one only when the partition heals (the other end could not have seen it before).
 */
export class PartitionProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly waiting: Socket[] = [];
  private readonly closedDuringPartition = new Set<Socket>();
  private partitioned = false;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  /** @returns the port it listens on (127.0.0.1) */
  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  /** Cuts the network: from now on nothing passes. */
  partition(): void {
    this.partitioned = true;
  }

  /** Ends the partition: delivers what was held, closes what was closed, connects new connections. */
  heal(): void {
    this.partitioned = false;
    for (const link of this.links) {
      for (const chunk of link.toUpstream.splice(0)) link.upstream.write(chunk);
      for (const chunk of link.toClient.splice(0)) link.client.write(chunk);
    }
    for (const socket of this.closedDuringPartition) this.closeLinkOf(socket);
    this.closedDuringPartition.clear();
    for (const client of this.waiting.splice(0)) this.link(client);
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    for (const client of this.waiting) client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.partitioned) {
      this.waiting.push(client);
      client.once('close', () => this.waiting.splice(this.waiting.indexOf(client), 1));
      return;
    }
    this.link(client);
  }

  private link(client: Socket): void {
    if (client.destroyed) return;
    const upstream = connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, toUpstream: [], toClient: [] };
    this.links.add(link);
    upstream.on('error', () => undefined);
    client.on('data', (chunk) => (this.partitioned ? link.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk) => (this.partitioned ? link.toClient.push(chunk) : client.write(chunk)));
    for (const socket of [client, upstream]) {
      socket.on('close', () => (this.partitioned ? this.closedDuringPartition.add(socket) : this.closeLinkOf(socket)));
    }
  }

  private closeLinkOf(socket: Socket): void {
    for (const link of this.links) {
      if (link.client !== socket && link.upstream !== socket) continue;
      link.client.destroy();
      link.upstream.destroy();
      this.links.delete(link);
    }
  }
}
