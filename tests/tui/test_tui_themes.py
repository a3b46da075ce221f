"""Themes as data files: the shipped ones load, a bad file gives one clear notice and a
fallback, --theme and the command palette switch themes, user themes are picked up.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC
from pathlib import Path

import pytest
from textual.app import SystemCommand
from textual.command import CommandList, CommandPalette

from tests.tui.tui_helpers import ROOT
from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.themes import ThemeSet, load_theme_file, load_themes, shipped_theme_dirs


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
        await wait_for(lambda: isinstance(app.screen, CommandPalette), what="the palette",
                       pilot=pilot)
        for ch in "theme: high-contrast":
            await pilot.press(ch)
        hits = app.screen.query_one(CommandList)

        def first_hit() -> str:
            if not hits.option_count or hits.highlighted != 0:
                return ""
            return str(hits.get_option_at_index(0).prompt)

        await wait_for(lambda: "theme: high-contrast" in first_hit(),
                       what=lambda: f"the theme as the first hit (first: {first_hit()!r})",
                       pilot=pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.theme == "high-contrast", what="theme switched", pilot=pilot)


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


def test_a_bad_variable_value_rejects_the_theme_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\nprimary = "#112233"\n[variables]\n'
                    '"footer-key-foreground" = "notacolour"\n')
    with pytest.raises(ValueError, match="footer-key-foreground"):
        load_theme_file(path)
    path.write_text('name = "ok"\nprimary = "#112233"\n[variables]\n'
                    '"footer-key-foreground" = "#FFFF00"\n"input-selection-background" = "#FFFF00 60%"\n'
                    '"block-cursor-text-style" = "bold"\n')
    assert load_theme_file(path).name == "ok"
    path.write_text('name = "bad"\nprimary = "#112233"\n[variables]\n"block-cursor-text-style" = "sparkly"\n')
    with pytest.raises(ValueError, match="block-cursor-text-style"):
        load_theme_file(path)


def test_a_theme_name_with_control_characters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "osc.toml"
    path.write_text('name = "x\\u001b]0;PWNED\\u0007"\nprimary = "#112233"\n')
    with pytest.raises(ValueError) as info:
        load_theme_file(path)
    assert "\x1b" not in str(info.value) and "\\e" in str(info.value)


def test_a_fifo_in_the_theme_folder_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "mine.toml").write_text("name = 'mine'\nprimary = '#112233'\n")
    done: list[ThemeSet] = []
    worker = threading.Thread(target=lambda: done.append(load_themes([tmp_path])))
    worker.daemon = True
    worker.start()
    worker.join(5)
    _unblock(tmp_path / "pipe.toml", worker)
    assert not worker.is_alive(), "loading themes blocked on a FIFO"
    assert [t.name for t in done[0].themes] == ["mine"]
    assert len(done[0].errors) == 1 and "FIFO" in done[0].errors[0]


async def test_a_bad_theme_at_start_falls_back_with_one_message_and_runs(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('name = "bad"\nprimary = "#112233"\n[variables]\n'
                                       '"footer-key-foreground" = "notacolour"\n')
    app = app_with([ROOT / "themes", tmp_path], theme="bad")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "udpscope-dark" and app.is_running
        messages = [n.message for n in app._notifications]
        assert any("bad.toml" in m and "footer-key-foreground" in m for m in messages)


async def test_switching_to_a_theme_that_does_not_apply_keeps_the_current_one() -> None:
    from textual.theme import Theme

    app = app_with([ROOT / "themes"], theme="udpscope-light")
    async with app.run_test() as pilot:
        await pilot.pause()
        # Registered directly (as a plugin could): its variable breaks the stylesheet.
        app.register_theme(Theme(name="broken", primary="#112233",
                                 variables={"footer-key-foreground": "notacolour"}))
        app.set_theme_safely("broken")
        await pilot.pause()
        assert app.theme == "udpscope-light" and app.is_running
        assert any("broken" in n.message and "keeping udpscope-light" in n.message
                   for n in app._notifications)


async def test_the_palette_lists_udpscopes_themes_only() -> None:
    app = app_with([ROOT / "themes"])
    async with app.run_test() as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        themes = sorted(t for t in titles if t.startswith("theme: "))
        assert themes == ["theme: high-contrast", "theme: udpscope-dark", "theme: udpscope-light"]
        assert "Theme" not in titles  # Textual's picker of its ~20 built-in themes


async def test_the_screenshot_command_writes_where_it_can_and_says_where(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from udpscope.tui import commands

    missing = tmp_path / "no-such-dir"
    monkeypatch.setattr(commands, "screenshot_dirs", lambda: [missing, tmp_path])
    app = app_with([ROOT / "themes"])
    async with app.run_test() as pilot:
        await pilot.pause()
        path = commands.save_screenshot(app)
        assert path is not None and path.parent == tmp_path and path.exists()
        await pilot.pause()
        assert any(str(path) in n.message for n in app._notifications)


def _unblock(fifo: Path, worker: threading.Thread) -> None:
    """If a reader is stuck in open() on the FIFO (the bug), give it a writer so it can end."""
    if worker.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(5)
