"""The named errors of contact-reasons: each says what is wrong and where."""

from __future__ import annotations


class ContactReasonsError(Exception):
    """Base class for every error this package raises on purpose."""


class InputError(ContactReasonsError):
    """Input data that cannot be read: names the file, row, column and value."""


class ConfigError(ContactReasonsError):
    """A configuration file or value that is invalid."""


class ModelMismatchError(ContactReasonsError):
    """A saved reason model used with another embedding model than it was built with."""


class StorageError(ContactReasonsError):
    """The database is missing, from a newer schema, or cannot be written."""


class RunLockedError(StorageError):
    """Another run holds the database."""
