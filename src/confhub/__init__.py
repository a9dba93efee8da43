"""confhub: province-to-commune online conferences for Vietnamese local government."""

__version__ = "0.1.0"
