"""Connection points (điểm cầu): where a unit, or the province itself, joins a meeting."""
