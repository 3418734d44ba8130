"""The error tree: every class is raised somewhere in src, or is an abstract base."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import hanoi247
from hanoi247.domain import errors

SRC = Path(hanoi247.__file__).parent
ERRORS = [
    value
    for value in vars(errors).values()
    if inspect.isclass(value)
    and issubclass(value, errors.Hanoi247Error)
    and value.__module__ == errors.__name__
]
# Never raised themselves: each is what a handler catches for its whole family.
ABSTRACT = {errors.Hanoi247Error, errors.DomainError, errors.AdapterError, errors.NotInForce}


def raised_names() -> set[str]:
    """Names of the classes a ``raise`` statement in src instantiates, including
    ``raise failure`` after ``failure = SignatureInvalid(...)`` in the same module."""
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        built: dict[str, set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        built.setdefault(target.id, set()).add(_name(node.value.func))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc
                name = _name(exc.func if isinstance(exc, ast.Call) else exc)
                names.add(name)
                names |= built.get(name, set()) if not isinstance(exc, ast.Call) else set()
    return names


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


RAISED = raised_names()


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_every_error_class_is_raised_in_src_or_is_an_abstract_base(
    error: type[errors.Hanoi247Error],
) -> None:
    if error in ABSTRACT:
        assert error.__subclasses__(), f"{error.__name__} is a base with no subclass"
    else:
        assert error.__name__ in RAISED, f"{error.__name__} is never raised: raise it or delete it"


def test_the_error_tree_drawing_names_every_class() -> None:
    drawing = errors.__doc__ or ""
    assert [e.__name__ for e in ERRORS if e.__name__ not in drawing] == []


def test_the_walk_sees_the_error_tree() -> None:
    assert {errors.ValidationFailed, errors.PeerUnreachable, errors.InvalidInput} <= set(ERRORS)
