"""Users, organisations, memberships and sign-in."""
