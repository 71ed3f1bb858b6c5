/**
 * What every provider fake shares: its options, the loopback HTTP server it answers on
 * (fake-http-server.ts), its URL and its shutdown. A fake adds its state and its routes.
 */
import {
  type FakeRequest,
  type FakeRoute,
  type FakeServer,
  startFakeHttpServer,
} from './fake-http-server.ts';

abstract class FakeApiServer<O> {
  readonly options: O;
  protected server!: FakeServer;

  protected constructor(options: O) {
    this.options = options;
  }

  /** Which endpoint a request is, and how the fake answers it. */
  protected abstract route(request: FakeRequest): FakeRoute;

  /** Starts listening on 127.0.0.1 (an ephemeral port). */
  protected async listen(): Promise<this> {
    this.server = await startFakeHttpServer((request) => this.route(request));
    return this;
  }

  get url(): string {
    return this.server.url;
  }

  get http(): FakeServer {
    return this.server;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export { FakeApiServer };
