"""Public pages: home, cookies, accessibility statement, privacy notice."""
