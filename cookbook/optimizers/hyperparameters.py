"""Checks shared by the optimizers: a bad hyperparameter fails at construction, by name."""

import math
import numbers


def _number(name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    return float(value)


def check_learning_rate(value):
    """Numbers must be >= 0; schedules and callables are the base class's business."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if _number("learning_rate", value) < 0:
            raise ValueError(f"learning_rate must be >= 0, got {value!r}.")
    return value


def check_decay(name, value):
    """Momentum-like coefficients live in [0, 1)."""
    if not 0.0 <= _number(name, value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}.")
    return float(value)


def check_positive(name, value):
    if not _number(name, value) > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    return float(value)


def check_non_negative(name, value):
    if not _number(name, value) >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}.")
    return float(value)
