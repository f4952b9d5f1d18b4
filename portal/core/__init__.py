"""Shared building blocks: permissions, errors, sanitiser, pagination, time, the API base."""
