// The agent socket: reconnects with backoff, replays missed events from the outbox (by last event id),
// drops events it has already seen (replays overlap on purpose), and keeps presence alive with pings.
export class LiveSocket {
  constructor({ path, lastEventId, onEvent, onMessage, onState }) {
    this.path = path;
    this.lastEventId = lastEventId || 0;
    this.onEvent = onEvent;
    this.onMessage = onMessage;
    this.onState = onState;
    this.seen = new Set();
    this.retry = 0;
    this.viewing = null;
    this.socket = null;
    setInterval(() => this.send({ type: "ping" }), 25000);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.path}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retry = 0;
      this.onState("open");
      socket.send(JSON.stringify({ type: "hello", last_event_id: this.lastEventId }));
      if (this.viewing) socket.send(JSON.stringify({ type: "view", conversation_id: this.viewing }));
    });
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "event") {
        if (this.seen.has(data.id)) return;
        this.remember(data.id);
        this.lastEventId = Math.max(this.lastEventId, data.id);
        this.onEvent(data);
      } else {
        this.onMessage(data);
      }
    });
    socket.addEventListener("close", (event) => {
      this.onState(event.code === 4401 ? "signed-out" : "closed");
      if (event.code === 4401) return;
      this.retry = Math.min(this.retry + 1, 5);
      setTimeout(() => this.connect(), 400 * 2 ** this.retry);
    });
  }

  remember(id) {
    this.seen.add(id);
    if (this.seen.size > 2000) {
      const oldest = [...this.seen].slice(0, 1000);
      for (const item of oldest) this.seen.delete(item);
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  view(conversationId) {
    this.viewing = conversationId;
    this.send(conversationId ? { type: "view", conversation_id: conversationId } : { type: "unview" });
  }
}
