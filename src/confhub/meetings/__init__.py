"""Meetings: scheduling, agenda, invitations of connection points and their chairs."""
