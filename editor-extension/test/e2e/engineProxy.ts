/**
 * A unix-socket relay in front of the real Docker engine, so the e2e can take "the engine"
 * away and bring it back (every connection cut, the socket gone) or make it slow, without
 * touching the shared daemon. The server under test talks to it through DOCKER_HOST.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

export class EngineProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Added before every chunk the engine sends back: a slow engine. */
  delayMs = 0;

  constructor(
    readonly socketPath: string,
    private readonly target = '/var/run/docker.sock',
  ) {}

  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  up(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    const server = net.createServer((client) => this.relay(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
  }

  /** The engine is gone: open connections are cut, new ones refused (no socket). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  private relay(client: net.Socket): void {
    const engine = net.connect(this.target);
    this.sockets.add(client);
    this.sockets.add(engine);
    // keep the engine's chunks in order whatever the delay is when each arrives
    let queue = Promise.resolve();
    engine.on('data', (chunk) => {
      const delay = this.delayMs;
      queue = queue.then(async () => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (!client.destroyed) client.write(chunk);
      });
    });
    engine.on('end', () => void queue.then(() => client.end()));
    client.on('data', (chunk) => engine.write(chunk));
    client.on('end', () => engine.end());
    const drop = (): void => {
      client.destroy();
      engine.destroy();
      this.sockets.delete(client);
      this.sockets.delete(engine);
    };
    client.on('error', drop);
    engine.on('error', drop);
    client.on('close', drop);
    engine.on('close', () => void queue.then(drop));
  }
}
