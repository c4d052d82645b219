"""Output formats for a check result; the CLI picks one, the engine knows none."""
