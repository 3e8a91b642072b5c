"""Validation of an argument that takes one of a few fixed values."""
from typing import Any, Sequence

__all__ = ['check_choice']


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise.

    Args:
        name (str): The argument's name, for the message.
        value (Any): The value given.
        choices (Sequence): The allowed values (at least one).

    Returns:
        Any: ``value``.

    Raises:
        ValueError: ``"<name> must be 'a', 'b' or 'c', got 'd'"``.
    """
    if value not in choices:
        options = [repr(choice) for choice in choices]
        if len(options) > 1:
            options = [', '.join(options[:-1]), options[-1]]
        raise ValueError(
            f"{name} must be {' or '.join(options)}, got {value!r}")
    return value
