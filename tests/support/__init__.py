"""Test support: throw-away servers and data builders shared by the suites."""
