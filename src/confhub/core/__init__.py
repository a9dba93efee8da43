"""Pieces every domain shares: errors, pagination, i18n, templating, time formatting."""
