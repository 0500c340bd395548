"""English and Chinese from day one: switch, browser default, and a complete catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[3] / "web"


def test_language_switch_renders_chinese(client_a):
    english = client_a.get("/console/suppliers").get_data(as_text=True)
    assert "Suppliers" in english and "Annual spend" in english
    client_a.post("/language", data={"lang": "zh_CN", "next": "/console/suppliers"})
    chinese = client_a.get("/console/suppliers").get_data(as_text=True)
    assert "供应商" in chinese and "年度采购额" in chinese
    assert "Annual spend" not in chinese
    assert 'lang="zh-CN"' in chinese


def test_browser_language_is_the_default(app):
    page = app.test_client().get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.get_data(as_text=True)
    page = app.test_client().get("/login", headers={"Accept-Language": "en-GB"})
    assert "Sign in" in page.get_data(as_text=True)


def test_unknown_language_is_refused(client_a):
    assert client_a.post("/language", data={"lang": "xx"}).status_code == 400


def test_chinese_catalogue_translates_every_string():
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB),
            method_map,
            keywords={"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)},
        )
    }
    po_path = WEB / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    catalogue = read_po(po_path.open("rb"), locale="zh_CN")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    missing = sorted(extracted - translated)
    assert not missing, f"untranslated in zh_CN: {missing}"
