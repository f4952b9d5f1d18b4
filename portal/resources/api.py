"""API: resources (CONTRACT.md)."""
