"""Log sources: one module per built-in source, TOML mappings for the rest.

parsers/registry.py lists them in detection order; parsers/base.py says what a
parser declares; parsers/toml.py compiles a mapping file into the same Parser.
"""
