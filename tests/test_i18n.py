"""The Chinese translation: every message of resources/i18n/traindesk_zh_CN.ts translated,
none unfinished or obsolete, the .ts in step with the source, placeholders kept, the
glossary's terms used; core's message templates matching the messages core writes, and
translated in the window."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TS = ROOT / "resources" / "i18n" / "traindesk_zh_CN.ts"
# English term -> the glossary's Chinese (docs/glossary.md), checked in every translation
# whose source uses the term.
GLOSSARY = {"learning rate": "学习率", "batch size": "批大小", "epochs": "轮",
            "overfitting": "过拟合", "freez": "冻结", "unfreez": "解冻", "checkpoint": "检查点",
            "validation": "验证", "optimizer": "优化器", "fine-tun": "微调",
            "gradient descent": "梯度下降", "weight decay": "权重衰减", "momentum": "动量"}


def messages(ts: Path = TS) -> list[tuple[str, str, ET.Element]]:
    root = ET.parse(ts).getroot()
    return [(context.findtext("name"), message.findtext("source"), message.find("translation"))
            for context in root.iter("context") for message in context.iter("message")]


def test_every_message_is_translated_and_none_is_unfinished_or_obsolete():
    found = messages()
    assert len(found) > 500
    problems = [(context, source, t.get("type")) for context, source, t in found
                if t.get("type") or not (t.text or "").strip()]
    assert problems == []


def test_translations_keep_the_placeholders_and_accelerators():
    for context, source, translation in messages():
        fields = sorted(re.findall(r"\{[^}]*\}", source))
        assert sorted(re.findall(r"\{[^}]*\}", translation.text)) == fields, (context, source)
        if re.search(r"&\w", source):
            assert re.search(r"&\w", translation.text), (context, source)


def test_the_glossary_terms_are_used_consistently():
    for context, source, translation in messages():
        for english, chinese in GLOSSARY.items():
            if re.search(rf"\b{english}", source.lower()) and context != "Settings":
                assert chinese in translation.text, (english, source, translation.text)


def test_the_ts_is_in_step_with_the_source(tmp_path):
    """update.py on a copy finds no new message and drops none: every marked string in gui/
    and core/ and every catalogue text is in the committed .ts."""
    copy = tmp_path / TS.name
    shutil.copy(TS, copy)
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "import resources.i18n.update as u; from pathlib import Path; "
            f"u.TS = Path({str(copy)!r}); sys.exit(u.main())")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    assert {(c, s) for c, s, _ in messages(copy)} == {(c, s) for c, s, _ in messages()}
    assert all(not t.get("type") for _, _, t in messages(copy))


def test_the_catalogue_is_marked_for_translation():
    from core.catalog import CATALOGUES

    sources = {(c, s) for c, s, _ in messages()}
    for catalogue in CATALOGUES.values():
        for entry in catalogue.entries():
            assert ("Catalogue", entry.help) in sources
            for param in entry.params:
                assert ("Catalogue", param.help) in sources
                assert ("Settings", param.label_words()) in sources
                assert not param.unit or ("Units", param.unit) in sources


def test_core_templates_match_the_messages_core_writes(tmp_path):
    """The templates core.i18n keeps for messages written elsewhere read as their writers."""
    from core.data.tables import read_csv
    from core.entries import Param
    from core.errors import BadInput
    from core.i18n import message_templates
    from gui.i18n import _pattern

    def matched(text: str) -> bool:
        return any(re.fullmatch(_pattern(t), text, re.S) for t in message_templates())

    assert matched(Param("n", "int", 1, "", minimum=1, maximum=9).describe_range())
    assert matched(Param("n", "int", 1, "", minimum=1).describe_range())
    assert matched(Param("n", "int", 1, "", maximum=9).describe_range())
    for path in (tmp_path / "missing.csv", tmp_path):
        with pytest.raises(BadInput) as raised:
            read_csv(str(path), "[data] path")
        assert matched(str(raised.value)), raised.value


def test_messages_from_core_are_translated_in_the_window(qapp):
    from gui.i18n import install_translators, translate_help, translate_message

    assert install_translators(qapp, "zh_CN") == "zh_CN"
    try:
        assert translate_message("评论.csv read as GB18030 (GBK) (detected; set encoding to "
                                 "choose)") == ("评论.csv 按 GB18030 (GBK) 读取（自动检测；可在"
                                                "“encoding”中指定）")
        assert translate_message("between 1 and 100") == "在 1 与 100 之间"
        assert translate_message("something core says that has no template") == \
            "something core says that has no template"
        assert translate_help("Passes over the training data.") == "遍历训练数据的轮次。"
    finally:
        install_translators(qapp, "en")
    assert translate_message("between 1 and 100") == "between 1 and 100"


def test_the_qm_is_compiled_from_the_ts_into_the_cache_once(monkeypatch):
    """A clean checkout or a pip install has no .qm: the window compiles the committed .ts
    with the wheel's lrelease into the cache, named by the .ts's hash."""
    import gui.i18n

    fresh = _without_qm(TS)
    monkeypatch.setattr(gui.i18n, "resource_path", lambda name: fresh)
    qm = gui.i18n.compiled_qm()
    assert qm.parent == gui.i18n.cache_dir() and qm.stat().st_size > 10_000
    before = qm.stat().st_mtime_ns
    assert gui.i18n.compiled_qm() == qm and qm.stat().st_mtime_ns == before


def _without_qm(ts: Path) -> Path:
    """A folder holding only the .ts, as a fresh checkout has."""
    import tempfile

    folder = Path(tempfile.mkdtemp())
    shutil.copy(ts, folder / ts.name)
    return folder
