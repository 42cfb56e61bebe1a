"""Sub-command modules of `portail`; each defines `register(commands)`."""
