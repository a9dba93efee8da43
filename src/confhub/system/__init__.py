"""The process itself: probes and metrics, request ids and logs, how `serve` runs, backups."""
