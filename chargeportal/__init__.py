"""The composition root: the ``chargeportal`` command line and ``serve``."""

from chargeportal.serve import ServeOptions, serve

__all__ = ["ServeOptions", "serve"]
