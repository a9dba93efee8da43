"""Notices: messages to the invited points' contacts (invitations, reminders, changes,
cancellations, reissued links) by e-mail and webhook, and the chairs' acknowledgements.

See `confhub.notices.outbox` for why the queue is confhub's own.
"""
