"""carid's shared plumbing: params, paths and logging used by every package."""

__version__ = "0.1.0"
