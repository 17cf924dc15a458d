"""What the mock providers have in common: fixtures, records, grants, the login page, tampering."""
