"""Names that become Python names: node ids, block names, block parameters, a Function's
argument names; and how any text from a file is made safe before it reaches generated code.

Validation matches the whole text: a pattern's ``$`` also matches before a final newline, so
``re.match(r"^[a-z]+$", "fc\\n")`` accepts a name that would break the code made from it.
Generated code (the compiled forward, the exported ``.py``) never relies on validation alone:
``code_name`` turns any text into a name Python accepts and ``code_text`` any text into a line
of a docstring, so no file, however it was made, can shape the code NetLoom writes.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Collection
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A plain index, as nn.Sequential names its layers (``downsample.0``), so that a block's
# state-dict keys can read exactly as a hand-written model's.
_INDEX = re.compile(r"0|[1-9][0-9]{0,5}")
_NOT_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_]")


def shown(name: Any) -> str:
    """A name as a message quotes it: as written when it is plain, else escaped (newlines,
    control and separator characters never reach a message as themselves)."""
    text = name if isinstance(name, str) else repr(name)
    text = text[:60] + "..." if len(text) > 60 else text
    return f"'{text}'" if text.isprintable() else ascii(text)


def is_python_name(name: Any) -> bool:
    """ASCII letters, digits and _, not starting with a digit or _, and no keyword (the whole text)."""
    return (isinstance(name, str) and _IDENTIFIER.fullmatch(name) is not None and not name.startswith("_")
            and not keyword.iskeyword(name))


def id_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a node id, or None if it can."""
    if isinstance(name, str) and _INDEX.fullmatch(name):
        return None
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        return (f"{shown(name)} is not a valid name: use letters, digits and _, not starting with a digit "
                "(or a plain number such as 0, as nn.Sequential numbers its layers)")
    if not is_python_name(name):
        return f"{shown(name)} is reserved: choose another name"
    return None


def name_problem(name: Any, what: str) -> str | None:
    """Why ``name`` cannot name a block, a block's parameter or a Function's argument (``what``
    says which), or None if it can."""
    if not is_python_name(name):
        return (f"{shown(name)} is not a valid {what}: use letters, digits and _, not starting with a digit "
                "or _, and no Python keyword")
    return None


# ---------------------------------------------------------------------- text into generated code
BUILTINS = frozenset(dir(builtins))       # names generated code may need for themselves


def code_name(text: str, taken: Collection[str] = (), index_ok: bool = False) -> str:
    """A Python name for ``text`` in generated code: ``text`` itself when it is a valid name (or,
    with ``index_ok``, a plain index such as ``0``, which the code then sets by ``setattr``);
    otherwise its letters, digits and _ (anything else becomes _), never a keyword, a private or
    dunder name. ``_`` is appended until the name is none of ``taken``."""
    if is_python_name(text) or (index_ok and isinstance(text, str) and _INDEX.fullmatch(text)):
        name = text
    else:
        name = _NOT_NAME_CHARACTER.sub("_", str(text)).lstrip("_") or "name"
        if name[0].isdigit():
            name = "n" + name
        while keyword.iskeyword(name):
            name += "_"
    while name in taken:
        name += "_"
    return name


def class_name(text: str, taken: Collection[str] = ()) -> str:
    """A class name from any text: 'lenet digits' -> 'LenetDigits'; never a builtin's name
    (``None``, ``Exception``) nor one of ``taken``."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    result = "".join(w[:1].upper() + w[1:] for w in words) or "Net"
    return code_name(result if not result[0].isdigit() else "Net" + result, {*BUILTINS, *taken})


def code_text(text: str) -> list[str]:
    """Lines of a docstring that read as ``text``: every character that could end the string or
    the line (quotes, backslashes, newlines, Unicode line and paragraph separators, control
    characters, lone surrogates) escaped or replaced, so the result always parses."""
    lines = []
    for line in re.split(r"\r\n|\n", text):
        line = line.replace("\\", "\\\\").replace('"', '\\"')
        lines.append("".join(c if c.isprintable() else ascii(c)[1:-1].replace("\\", "\\\\") for c in line))
    return lines
