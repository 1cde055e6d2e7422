"""server/routes package."""
