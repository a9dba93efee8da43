"""Administrative units of the 2025 two-tier system: 34 provinces, 3,321 communes and wards."""
