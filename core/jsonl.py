"""The one JSON Lines reader: each object with its line number, each problem with its line.

Every JSONL file cosmo reads goes through :func:`iter_jsonl` (IntentionQA, candidates,
triples, labels, instruction examples, the table reader). Lines are the file's physical
lines, 1-based, split on ``\\n`` only (a ``\\u2028`` inside a string does not end a line);
blank lines are skipped but counted; a UTF-8 byte-order mark is ignored.

A line that is not UTF-8, not JSON, or not a JSON object is a problem: an
:class:`~cosmo.core.errors.InputError` naming the file and the line. By default the first
problem is raised; pass a list as ``problems`` to collect them all and keep the good lines.
A last line cut off mid-object (no final newline) is reported as a truncated file.

An object holding a control character other than TAB, LF and CR (written ``\\u0000``,
``\\b`` ...; :mod:`cosmo.core.text`) is a problem of its line naming the field; pass a list
as ``text_problems`` to collect those apart from the lines that cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.text import has_control_bytes, record_problem

__all__ = ["iter_jsonl", "read_bytes"]

_BOM = b"\xef\xbb\xbf"


def read_bytes(path: Path | str) -> bytes:
    """The bytes of ``path``; a missing or unreadable file is an :class:`InputError`."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise InputError("file not found", file=str(path)) from e
    except IsADirectoryError as e:
        raise InputError("is a folder, not a file", file=str(path)) from e
    except OSError as e:
        raise InputError(f"cannot read the file: {e}", file=str(path)) from e


def not_utf8(raw: bytes, e: UnicodeDecodeError, *, file: str, line: int) -> InputError:
    """The problem of a line that is not UTF-8: the byte, its column and what is around it."""
    near = raw[max(0, e.start - 10) : e.end + 10]
    return InputError(
        f"text is not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}, near {near!r}); "
        "re-save the file as UTF-8",
        file=file,
        line=line,
    )


def iter_jsonl(
    path: Path | str,
    *,
    problems: list[InputError] | None = None,
    data: bytes | None = None,
    text_problems: list[InputError] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for every JSON object line of ``path``.

    Args:
        problems: where to collect bad lines (they are skipped); ``None`` raises the first.
        data: the file's bytes when the caller has read them already.
        text_problems: where to collect lines holding a control character (skipped too);
            ``None`` treats them like the other problems.

    Raises:
        InputError: the file is missing or unreadable, or (without ``problems``) a bad line.
    """
    file = str(path)
    if data is None:
        data = read_bytes(path)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    lines = data.split(b"\n")
    last = max((n for n, raw in enumerate(lines) if raw.strip()), default=-1)
    cut = not data.endswith(b"\n")
    controls = has_control_bytes(data, json_escapes=True)
    text_sink = text_problems if text_problems is not None else problems
    for n, raw in enumerate(lines):
        if not raw.strip():
            continue
        problem: InputError
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            problem = not_utf8(raw, e, file=file, line=n + 1)
            cause: Exception = e
        except json.JSONDecodeError as e:
            msg = (
                f"the file is truncated: the last line is cut off ({e.msg})"
                if n == last and cut
                else f"not valid JSON ({e.msg} at column {e.colno})"
            )
            problem, cause = InputError(msg, file=file, line=n + 1), e
        else:
            if isinstance(obj, dict):
                bad = record_problem(obj, file=file, line=n + 1) if controls else None
                if bad is None:
                    yield n + 1, obj
                elif text_sink is None:
                    raise bad
                else:
                    text_sink.append(bad)
                continue
            problem = InputError("a JSONL line must hold one JSON object", file=file, line=n + 1)
            cause = TypeError(type(obj).__name__)
        if problems is None:
            raise problem from cause
        problems.append(problem)
