"""Demo and first-run data: the seed, a demo topology, a year of sessions."""
