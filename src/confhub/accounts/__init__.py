"""Accounts, roles, sign-in sessions and the guards other domains reuse."""
