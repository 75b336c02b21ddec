"""The window's language: Simplified Chinese or English, following the system unless the
View > Language setting says otherwise.

Every string the window shows is English in the source, marked with an explicit context
(`QCoreApplication.translate("Context", "literal")`) so that pyside6-lupdate finds it; the
translations live in resources/i18n/traindesk_zh_CN.ts (committed). The compiled .qm is never
committed: the frozen app ships one built by packaging/build.py, and an installed or checked
out copy compiles the .ts with the lrelease of its own PySide6 wheel into the user's cache
on first start, again whenever the .ts changes (docs/architecture.md, "Translations").
Qt's own dialogs come in Chinese through qtbase_zh_CN.qm from the same wheel.

Texts written in core (catalogue help, setting names, data notes, common errors) are
English there, as the command line shows them; the window translates them when it shows
them: `translate_help` for the catalogue, `translate_message` for messages (core.i18n).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import (QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QSettings,
                            QTranslator)

from core.i18n import message_templates
from resources import resource_path

# The setting's values: follow the system, or a language of our own.
LANGUAGES = ("auto", "zh_CN", "en")
SETTING = "language"
CATALOGUE = "traindesk_zh_CN"


def settings() -> QSettings:
    return QSettings("TrainDesk", "TrainDesk")


def chosen_language() -> str:
    value = settings().value(SETTING, "auto")
    return value if value in LANGUAGES else "auto"


def choose_language(language: str) -> None:
    """Store the View > Language choice; it applies from the next start."""
    settings().setValue(SETTING, language)


def effective_language(language: str | None = None) -> str:
    """zh_CN or en: the chosen language, or for auto the system's (any Chinese but
    Taiwan's and Hong Kong's traditional script reads the simplified translation)."""
    language = language or chosen_language()
    if language != "auto":
        return language
    locale = QLocale.system()
    return "zh_CN" if locale.language() == QLocale.Language.Chinese and \
        locale.script() != QLocale.Script.TraditionalChineseScript else "en"


def install_translators(app: QCoreApplication, language: str | None = None) -> str:
    """Install TrainDesk's and Qt's Chinese translators on `app` when the language is
    Chinese; returns the language in effect. Kept on the app so they live as long as it."""
    for translator in getattr(app, "_traindesk_translators", []):
        app.removeTranslator(translator)
    app._traindesk_translators = []
    language = effective_language(language)
    if language != "zh_CN":
        return language
    qt_translations = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, folder in (("qtbase_zh_CN", qt_translations), (None, None)):
        translator = QTranslator(app)
        loaded = translator.load(name, folder) if name else translator.load(str(compiled_qm()))
        if loaded:
            app.installTranslator(translator)
            app._traindesk_translators.append(translator)
        elif name:  # say so: a missing file silently leaves Qt's own buttons in English
            print(f"traindesk: cannot find {name}.qm in {folder}; Qt's own dialog buttons "
                  "stay in English", file=sys.stderr)
    return language


def compiled_qm() -> Path:
    """The compiled catalogue: the one shipped beside the .ts (frozen app, package build)
    when it is not older than the .ts, else one compiled now into the user's cache, named
    by the .ts's hash so that a changed .ts is compiled again."""
    ts = resource_path("i18n") / f"{CATALOGUE}.ts"
    shipped = ts.with_suffix(".qm")
    if shipped.is_file() and (not ts.is_file() or
                              shipped.stat().st_mtime >= ts.stat().st_mtime):
        return shipped
    digest = hashlib.sha256(ts.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"{CATALOGUE}.{digest}.qm"
    if not cached.is_file():
        compile_ts(ts, cached)
    return cached


def compile_ts(ts: Path, qm: Path) -> None:
    """pyside6-lrelease (the wheel's lrelease) from `ts` to `qm`, written whole or not at
    all; a failure leaves the window in English and says why on stderr."""
    import PySide6

    lrelease = Path(PySide6.__file__).parent / ("lrelease.exe" if sys.platform == "win32"
                                                else "lrelease")
    qm.parent.mkdir(parents=True, exist_ok=True)
    partial = qm.with_suffix(".partial")
    try:
        subprocess.run([str(lrelease), "-silent", str(ts), "-qm", str(partial)], check=True,
                       capture_output=True, timeout=60)
        partial.replace(qm)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"traindesk: cannot compile the translations ({exc}); the window stays in "
              "English", file=sys.stderr)
        partial.unlink(missing_ok=True)


def cache_dir() -> Path:
    from core.files import traindesk_home

    return traindesk_home() / "cache" / "i18n"


def translate_help(text: str) -> str:
    """A catalogue help text (core/entries.py's Param and Entry help) in the window's
    language; resources/i18n/update.py marks every one under the "Catalogue" context."""
    return QCoreApplication.translate("Catalogue", text) if text else text


# A run's status as summary.json spells it (core/runs), named in the window's language.
RUN_STATUSES = (QT_TRANSLATE_NOOP("RunStatus", "completed"),
                QT_TRANSLATE_NOOP("RunStatus", "running"),
                QT_TRANSLATE_NOOP("RunStatus", "stopped"),
                QT_TRANSLATE_NOOP("RunStatus", "interrupted"),
                QT_TRANSLATE_NOOP("RunStatus", "failed"),
                QT_TRANSLATE_NOOP("RunStatus", "diverged"),
                QT_TRANSLATE_NOOP("RunStatus", "unreadable"))


def status_text(status: str) -> str:
    """A run's status as the window shows it."""
    return QCoreApplication.translate("RunStatus", status)


def translate_message(text: str) -> str:
    """A message written in core (a data note, a BadInput) in the window's language: the
    first of core.i18n's templates it matches is translated, and its fields put back in
    (themselves translated when they are messages too, such as a range). Unknown messages
    stay as core wrote them."""
    for template, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match:
            translated = QCoreApplication.translate("Messages", template)
            if translated == template:
                return text
            return translated.format(**{k: translate_message(v)
                                        for k, v in match.groupdict().items()})
    return text


_compiled: list[tuple[str, re.Pattern]] = []


def _patterns() -> list[tuple[str, re.Pattern]]:
    """core.i18n's templates as patterns: "{path} read as {encoding}" matches any text with
    "read as" between two fields."""
    templates = message_templates()
    if len(_compiled) != len(templates):
        _compiled[:] = [(t, re.compile(_pattern(t), re.S)) for t in templates]
    return _compiled


def _pattern(template: str) -> str:
    parts = re.split(r"\{(\w+)\}", template)
    return "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                   for i, p in enumerate(parts))
