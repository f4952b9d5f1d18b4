"""Accounts: users, login, API tokens, notifications, language."""
