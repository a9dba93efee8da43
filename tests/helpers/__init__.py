"""Helpers shared by test folders (plain functions and context managers, not fixtures)."""
