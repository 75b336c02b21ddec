"""Messages that the window shows in Chinese though core writes them in English.

core imports no Qt, and the command line stays English, so core writes its messages in
English as always. A message the window should translate is written from a template
marked with `translatable("Messages", "...{field}...")`: pyside6-lupdate is told to read
`translatable` as QT_TRANSLATE_NOOP (resources/i18n/update.py), so the template lands in
resources/i18n/traindesk_zh_CN.ts, and gui.i18n.translate_message matches a message against
the registered templates and fills the fields into the translation.

The catalogue's help texts and setting names need no marking: update.py takes them from
the catalogue itself.
"""

from __future__ import annotations

_TEMPLATES: list[str] = []


def translatable(context: str, template: str) -> str:
    """`template` unchanged; a "Messages" template is registered for the window to match."""
    if context == "Messages" and template not in _TEMPLATES:
        _TEMPLATES.append(template)
    return template


def message_templates() -> list[str]:
    """The registered templates, most specific first (a template with more fixed text is
    tried before one it would also match)."""
    return sorted(_TEMPLATES, key=lambda t: -len(_fixed_text(t)))


def _fixed_text(template: str) -> str:
    import re

    return re.sub(r"\{\w+\}", "", template)


# Messages written elsewhere in core that the window shows often. They must read exactly as
# the modules that write them do; tests/test_i18n.py checks each against its writer.
RANGE_BETWEEN = translatable("Messages", "between {low} and {high}")
RANGE_AT_LEAST = translatable("Messages", "at least {low}")
RANGE_AT_MOST = translatable("Messages", "at most {high}")
CANNOT_READ = translatable("Messages", "cannot read {path} ({reason})")
