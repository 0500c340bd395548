"""Cited data tables shipped with spend_factors (CSV/JSON), read via the package path."""
