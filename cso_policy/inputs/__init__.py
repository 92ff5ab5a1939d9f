"""Finding and reading the inputs: the workspace, contract files, record sources and TOML."""
