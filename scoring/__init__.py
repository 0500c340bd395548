"""Supplier scoring methodology and engine (versioned, explainable)."""
