"""presswatch: media monitoring and clipping for a municipal press office.

This package root is the pipeline/ folder (the spine); crawlers/, enrich/, index/ and digest/ are its
subpackages (see pyproject.toml and docs/decisions.md).
"""

__version__ = "0.1.0"
