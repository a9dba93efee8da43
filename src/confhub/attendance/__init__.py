"""Live attendance: the roll call (check-ins), presence and link signal of every point, and the
versioned event log that every server process and every board agrees on."""
