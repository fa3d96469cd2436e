"""The notes app's development tools (not deployed): the local stand-ins stagewise.toml declares."""
