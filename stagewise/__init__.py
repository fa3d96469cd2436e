"""stagewise: run a many-service AWS serverless app locally, ship it through stages."""

__version__ = "0.1.0"
