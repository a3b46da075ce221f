"""Themes as data files: the shipped ones load, a bad file gives one clear notice and a
fallback, --theme and the command palette switch themes, user themes are picked up.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from textual.app import SystemCommand
from tui_helpers import ROOT, wait_for

from udpscope.capture import Capture
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.themes import load_theme_file, load_themes, shipped_theme_dirs


def app_with(theme_dirs: list[Path], theme: str | None = None) -> UdpscopeApp:
    return UdpscopeApp(theme=theme, capture=Capture(), tz=UTC, theme_dirs=theme_dirs)


def test_shipped_themes_load_and_include_high_contrast() -> None:
    assert shipped_theme_dirs() == [ROOT / "themes"]
    loaded = load_themes([ROOT / "themes"])
    assert loaded.errors == []
    names = {t.name for t in loaded.themes}
    assert {"udpscope-dark", "udpscope-light", "high-contrast"} <= names
    assert len(names) >= 3


async def test_bad_theme_file_is_reported_once_and_others_still_load(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("name = 'broken'\nprimary = [1, 2\n")
    (tmp_path / "badcolour.toml").write_text("name = 'bad'\nprimary = 'not-a-colour'\n")
    (tmp_path / "mine.toml").write_text("name = 'mine'\nprimary = '#112233'\ndark = true\n")
    app = app_with([ROOT / "themes", tmp_path], theme="mine")
    async with app.run_test() as pilot:
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        theme_notes = [m for m in notes if "theme" in m.lower()]
        assert len(theme_notes) == 1
        assert "broken.toml" in theme_notes[0] and "badcolour.toml" in theme_notes[0]
        assert app.theme == "mine"  # the user's good theme is used
        assert "broken" not in app.available_themes


async def test_unknown_theme_falls_back_with_a_notice() -> None:
    app = app_with([ROOT / "themes"], theme="no-such-theme")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "udpscope-dark"
        assert any("no-such-theme" in n.message for n in app._notifications)


async def test_palette_offers_namespaced_commands_and_switches_theme() -> None:
    app = app_with([ROOT / "themes"])
    async with app.run_test() as pilot:
        await pilot.pause()
        commands: list[SystemCommand] = list(app.get_system_commands(app.screen))
        titles = {c.title for c in commands}
        for wanted in ("socket: new", "socket: close", "socket: bind", "socket: connect",
                       "log: clear", "log: pause", "view: stats", "view: multicast",
                       "theme: high-contrast", "theme: udpscope-light"):
            assert wanted in titles, wanted
        # Through the real palette UI: open it, type, run the first hit.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        for ch in "theme: high-contrast":
            await pilot.press(ch)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "high-contrast", what="theme switched")


def test_theme_file_requires_primary(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("name = 'x'\n")
    try:
        load_theme_file(path)
    except ValueError as exc:
        assert "primary" in str(exc) and "x.toml" in str(exc)
    else:
        raise AssertionError("accepted a theme without primary")


def test_user_theme_dir_is_searched_and_wins(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import udpscope.tui.themes as themes

    (tmp_path / "dark.toml").write_text("name = 'udpscope-dark'\nprimary = '#ABCDEF'\n")
    monkeypatch.setattr(themes, "user_theme_dir", lambda: tmp_path)
    loaded = themes.load_themes()
    dark = next(t for t in loaded.themes if t.name == "udpscope-dark")
    assert dark.primary == "#ABCDEF"
