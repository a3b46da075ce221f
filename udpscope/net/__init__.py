"""Host network facts for multicast debugging: interfaces, kernel memberships, checks, hints."""
