"""Domain core: organisations, suppliers, tier graph, persistence, jobs, CLI."""
