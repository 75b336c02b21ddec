"""What a catalogue is made of: typed parameters (`Param`), entries (`Entry`) and the
`Catalogue` that collects them.

Each registering module (core/data/digits.py, core/models/builders.py, ...) keeps its own
`Catalogue` and registers its builders there; `core.catalog` joins them into the five
catalogues the rest of TrainDesk uses. Registering modules import only this module, so
nothing imports back into core.catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from core.errors import BadInput
from core.files import printable

# Echoed values are cut to this many characters, so a 20 MB value gives a short error line.
SHOWN_CHARS = 80


def shown(value: Any, quote: bool = True) -> str:
    """`value` as an error message echoes it: repr'd (or as text with quote=False), cut to
    SHOWN_CHARS with its size said, so a huge value still gives a short line."""
    text = repr(value) if quote else str(value)
    if len(text) <= SHOWN_CHARS:
        return text
    size = ""
    if isinstance(value, (str, list, dict)):
        size = f" ({len(value):,} {'characters' if isinstance(value, str) else 'entries'})"
    return f"{text[:SHOWN_CHARS]}…{size}"


# Units a setting's name may end in ("checkpoint_every_s", "gain_db"): the label drops the
# ending and shows the unit once.
UNIT_SUFFIXES = {"s": "_s", "ms": "_ms", "dB": "_db"}

# Parameter kinds and the Python values they hold.
KINDS = ("int", "float", "bool", "choice", "str", "path", "dir", "int_list", "str_list",
         "float_map")


@dataclass(frozen=True)
class Param:
    """One typed parameter of a catalogue entry.

    `minimum`/`maximum` bound int and float values (inclusive); `choices` lists the
    accepted strings of a "choice" parameter; lists hold ints or strings.
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    zero_means: str = ""  # for an int whose 0 is a setting of its own, e.g. "auto", "never"
    max_items: int | None = None  # the most entries a list may hold
    # What the value counts or measures ("s", "px", "Hz", "epochs"): the form's label shows it
    # ("checkpoint every (s)"), so it is not only in the help
    unit: str = ""
    # A "str" naming a column of the CSV file that parameter `column_of` of the same entry
    # holds: the window offers the file's columns
    column_of: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}")
        if self.kind == "choice" and self.default not in self.choices:
            raise ValueError(f"parameter {self.name}: default not among choices")

    def check(self, value: Any, where: str) -> Any:
        """Return `value` converted to this parameter's type, or raise BadInput naming `where`."""
        kind = self.kind
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        expected = {
            "int": int, "float": float, "bool": bool, "choice": str, "str": str,
            "path": str, "dir": str, "int_list": list, "str_list": list, "float_map": dict,
        }[kind]
        if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
            raise BadInput(f"{where} = {shown(value)}: expected {self.describe_type()}, got "
                           f"{type(value).__name__}")
        if kind in ("int_list", "str_list"):
            if self.max_items is not None and len(value) > self.max_items:
                raise BadInput(f"{where} holds {len(value):,} entries; at most "
                               f"{self.max_items} are accepted")
            item_type = int if kind == "int_list" else str
            for item in value:
                if not isinstance(item, item_type) or isinstance(item, bool):
                    raise BadInput(f"{where} = {shown(value)}: expected {self.describe_type()}")
            value = list(value)
            items = value
        elif kind == "float_map":
            for key, item in value.items():
                if isinstance(item, bool) or not isinstance(item, (int, float)):
                    raise BadInput(f"{where}.{shown(key, quote=False)} = {shown(item)}: "
                                   "expected a number")
            value = {key: float(item) for key, item in value.items()}
            items = list(value.values())
        else:
            items = [value]
        if kind in ("float", "float_map") and any(item != item for item in items):
            bounded = self.minimum is not None or self.maximum is not None
            raise BadInput(f"{where} = {shown(value)}: nan is not a number; give a number"
                           f"{' ' + self.describe_range() if bounded else ''}")
        if kind in ("int", "float", "int_list", "float_map"):
            for item in items:
                if self.minimum is not None and item < self.minimum:
                    raise BadInput(f"{where} = {shown(value)}: must be {self.describe_range()}")
                if self.maximum is not None and item > self.maximum:
                    raise BadInput(f"{where} = {shown(value)}: must be {self.describe_range()}")
        if kind in ("path", "dir"):
            _check_encodable(value, where)
        if kind == "choice" and value not in self.choices:
            raise BadInput(f"{where} = {shown(value)}: choose one of {', '.join(self.choices)}")
        return value

    def label_words(self) -> str:
        """The name as a label's words, less a unit it ends in that the label shows apart:
        "checkpoint_every_s" is "checkpoint every", shown as "checkpoint every (s)"."""
        suffix = UNIT_SUFFIXES.get(self.unit, "")
        name = self.name.removesuffix(suffix) if suffix else self.name
        return name.replace("_", " ")

    def default_value(self) -> Any:
        """The default, as a fresh copy when it is a list or a table."""
        return type(self.default)(self.default) if isinstance(self.default, (list, dict)) \
            else self.default

    def describe_type(self) -> str:
        return {
            "int": "a whole number", "float": "a number", "bool": "true or false",
            "choice": "one of " + ", ".join(self.choices), "str": "text",
            "path": "a file path (text)", "dir": "a folder path (text)",
            "int_list": "a list of whole numbers, e.g. [1, 2]",
            "str_list": 'a list of names, e.g. ["a", "b"]',
            "float_map": "a table of names and numbers, e.g. { conv1 = 0.1, fc2 = 1.0 }",
        }[self.kind]

    def describe_range(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"between {self.minimum:g} and {self.maximum:g}"
        if self.minimum is not None:
            return f"at least {self.minimum:g}"
        if self.maximum is not None:
            return f"at most {self.maximum:g}"
        return "any value"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "default": self.default, "help": self.help,
            "minimum": self.minimum, "maximum": self.maximum, "choices": list(self.choices),
            "zero_means": self.zero_means, "unit": self.unit,
        }


def _check_encodable(path: str, where: str) -> None:
    """A path is stored in the run folder's UTF-8 config.toml; one holding bytes that are
    not UTF-8 (a file name from another system's encoding) cannot be, so it is refused."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{where} = {shown(printable(path))}: the path holds bytes that are "
                       "not UTF-8 text; rename the file or folder (or move the data) to a "
                       "name in plain letters") from None


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: `build` receives the checked parameters plus kind-specific arguments."""

    name: str
    help: str
    params: tuple[Param, ...]
    build: Callable[..., Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default_value() for p in self.params}

    def check_params(self, values: dict[str, Any], section: str) -> dict[str, Any]:
        """Return all parameters, defaults filled in and in catalogue order, or raise BadInput."""
        unknown = [key for key in values if self.param(key) is None]
        if unknown:
            accepted = ", ".join(p.name for p in self.params) or "none"
            raise BadInput(
                f"[{section}] unknown key {shown(unknown[0])} for {self.name}; accepted keys: "
                f"name, {accepted}"
            )
        return {
            p.name: p.check(values[p.name], f"[{section}] {p.name}") if p.name in values
            else p.default_value()
            for p in self.params
        }

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "help": self.help, "params": [p.to_json() for p in self.params]}


class Catalogue:
    """Registered entries of one kind (models, datasets, ...), in registration order."""

    def __init__(self, kind: str, entries: tuple[Entry, ...] = ()) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        for entry in entries:
            self._add(entry)

    @classmethod
    def joined(cls, kind: str, *parts: Catalogue) -> Catalogue:
        """One catalogue holding the entries of `parts`, in order."""
        return cls(kind, tuple(entry for part in parts for entry in part.entries()))

    def _add(self, entry: Entry) -> None:
        if entry.name in self._entries:
            raise ValueError(f"{self.kind} {entry.name!r} registered twice")
        self._entries[entry.name] = entry

    def register(self, name: str, help: str, params: tuple[Param, ...] = (), **extra: Any):
        """Decorator: register the decorated builder function under `name`."""

        def decorate(build: Callable[..., Any]) -> Callable[..., Any]:
            self._add(Entry(name, help, tuple(params), build, dict(extra)))
            return build

        return decorate

    def get(self, name: str, section: str | None = None) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            where = (f"[{section}] name = {shown(name)}" if section
                     else f"{self.kind} {shown(name)}")
            raise BadInput(
                f"{where}: unknown {self.kind}; choose one of {', '.join(self._entries)}"
            ) from None

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())
