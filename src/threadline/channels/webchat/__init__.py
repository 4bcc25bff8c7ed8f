"""The web chat channel: the `/widget.js` chat widget and in-app messenger, live over a WebSocket."""
