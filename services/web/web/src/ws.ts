// The realtime feed: one WebSocket to /api/ws, reconnecting with backoff, its
// events handed to whoever subscribed. The token goes in the subprotocol pair
// ("bearer", token), the one way a browser can send it. The server closes the
// socket with 1008 (policy violation) when its token expires or is revoked:
// the feed then renews the token and reconnects at once.

export interface Event {
  event: string;
  data: any;
  timestamp: string;
}

type Handler = (e: Event) => void;

export class Feed {
  private ws: WebSocket | null = null;
  private handlers = new Set<Handler>();
  private statusHandlers = new Set<(up: boolean) => void>();
  private retry = 0;
  private timer: number | undefined;
  private closed = false;
  private up = false;

  constructor(
    private token: () => string,
    private renew: (stale: string) => Promise<string>,
  ) {
    this.open();
  }

  private open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const token = this.token();
    if (this.closed || !token) return; // a signed-out feed is closed by the provider
    const ws = new WebSocket(`${scheme}://${location.host}/api/ws`, ["bearer", token]);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.setUp(true);
    };
    ws.onmessage = (m) => {
      let e: Event;
      try {
        e = JSON.parse(m.data);
      } catch {
        return;
      }
      this.handlers.forEach((h) => h(e));
    };
    ws.onclose = (e) => {
      this.setUp(false);
      if (this.closed) return;
      if (e.code === 1008 && this.retry === 0) {
        // A session that cannot be renewed signs out, which closes the feed.
        this.retry++;
        this.renew(token).then(
          () => this.open(),
          () => this.schedule(),
        );
        return;
      }
      this.schedule();
    };
  }

  private schedule() {
    if (this.closed) return;
    const delay = Math.min(30000, 500 * 2 ** this.retry++);
    this.timer = window.setTimeout(() => this.open(), delay);
  }

  subscribe(h: Handler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  private setUp(up: boolean) {
    this.up = up;
    this.statusHandlers.forEach((h) => h(up));
  }

  // onStatus tells h whether the feed is connected, now and on every change:
  // a page that subscribes after the socket opened must still learn it.
  onStatus(h: (up: boolean) => void): () => void {
    this.statusHandlers.add(h);
    h(this.up);
    return () => this.statusHandlers.delete(h);
  }

  send(event: string) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event }));
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}
