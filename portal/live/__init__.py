"""Real-time: the Socket.IO protocol (event names and payloads) and its handlers."""
