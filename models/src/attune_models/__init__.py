"""Training, evaluation and benchmarks of Attune's rupture classifier."""
