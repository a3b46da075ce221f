"""Themes are data files, so users can add or tweak one without touching code.

Shipped themes live in the top-level themes/ directory, which the wheel carries as
udpscope/themes; in an editable install the package directory has none, so we fall back to the
repository's themes/. User themes come from platformdirs' user_config_dir("udpscope")/themes and
may override a shipped theme of the same name.

A theme is checked as a whole before anything uses it: its name (it becomes a CSS class and a
palette entry, so only letters, digits, '-' and '_'), every colour, and every `[variables]` value
parsed by Textual's own CSS parser in the property it is made for. A file that fails is skipped
with one message naming it and the reason; only regular files are read, without blocking (a FIFO
named *.toml is refused, not waited on). Switching to a theme at run time is checked again
against the whole stylesheet; if it does not apply, the current theme stays.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.color import Color, ColorParseError
from textual.theme import Theme

from udpscope.textsafe import safe_text
from udpscope.tui.regular_file import FileReadError, read_regular_file

if TYPE_CHECKING:
    from textual.app import App

DEFAULT_THEME = "udpscope-dark"
MAX_THEME_FILE = 64 * 1024
_COLOR_KEYS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")


class ThemeFileError(ValueError):
    """A theme file that cannot be used (the message names the file and the reason)."""


@dataclass
class ThemeSet:
    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def shipped_theme_dirs() -> list[Path]:
    """Where the themes that come with udpscope are (the wheel's, else the repository's)."""
    here = Path(__file__).resolve().parent.parent  # udpscope/
    packaged = here / "themes"
    if packaged.is_dir():
        return [packaged]
    repo = here.parent / "themes"
    return [repo] if repo.is_dir() else []


def user_theme_dir() -> Path:
    """The user's theme folder (created by nobody but the user)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("udpscope")) / "themes"


def _variable_property(name: str) -> str:
    """The CSS property a theme variable is used in, to parse its value the way Textual will."""
    return "text-style" if name.endswith("-style") else "color"


def check_variables(variables: dict[str, str], base: dict[str, str]) -> str | None:
    """The first `[variables]` entry Textual's CSS parser rejects, as a message, or None.

    All of them are parsed in one go; only when that fails are they parsed one by one, to name
    the culprit.

    Args:
        variables: The theme's own variables.
        base: Every variable the theme defines through its colours (they may be referenced).
    """
    for name in variables:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", name):
            return f"variable name {safe_text(name, 40)!r} is not valid"
    if _parses(variables, base):
        return None
    for name, value in variables.items():
        if not _parses({name: value}, {**base, **variables}):
            return f"variable {name!r} has a value Textual cannot use: {safe_text(value, 40)!r}"
    return "its [variables] cannot be used together"


def _parses(variables: dict[str, str], base: dict[str, str]) -> bool:
    from textual.css.stylesheet import Stylesheet

    declarations = " ".join(f"{_variable_property(name)}: ${name};" for name in variables)
    sheet = Stylesheet(variables={**base, **variables})
    sheet.add_source(f"Widget {{ {declarations} }}", read_from=("theme", "variables"))
    try:
        sheet.parse()
    except Exception:  # StylesheetError, or anything else a bad value provokes
        return False
    return True


def load_theme_file(path: Path) -> Theme:
    """Parse and check one TOML theme; raises ThemeFileError with a one-line reason."""
    label = safe_text(path.name, 60)
    try:
        raw = read_regular_file(path, MAX_THEME_FILE)
    except FileReadError as exc:
        raise ThemeFileError(f"{label}: cannot read ({exc})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ThemeFileError(f"{label}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{label}: not valid TOML ({safe_text(str(exc), 120)})") from exc
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name.strip()):
        raise ThemeFileError(
            f"{label}: 'name' must be 1-40 letters, digits, '-' or '_', starting with a letter "
            f"(got {safe_text(str(name), 40)!r})")
    if "primary" not in data:
        raise ThemeFileError(f"{label}: 'primary' colour is required")
    colours: dict[str, str] = {}
    for key in _COLOR_KEYS:
        if key in data:
            value = data[key]
            if not isinstance(value, str):
                raise ThemeFileError(f"{label}: '{key}' must be a colour string")
            try:
                Color.parse(value)
            except ColorParseError as exc:
                raise ThemeFileError(
                    f"{label}: '{key}' is not a colour: {safe_text(value, 40)!r}") from exc
            colours[key] = value
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{label}: 'dark' must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeFileError(f"{label}: [variables] must map names to strings")
    theme = Theme(
        name=name.strip(), dark=dark, variables=dict(variables), primary=colours["primary"],
        secondary=colours.get("secondary"), warning=colours.get("warning"),
        error=colours.get("error"), success=colours.get("success"), accent=colours.get("accent"),
        foreground=colours.get("foreground"), background=colours.get("background"),
        surface=colours.get("surface"), panel=colours.get("panel"), boost=colours.get("boost"),
    )
    if variables:
        # The colour system's variables matter only to values that refer to one ($name).
        refers = any("$" in value for value in variables.values())
        bad = check_variables(variables, theme.to_color_system().generate() if refers else {})
        if bad:
            raise ThemeFileError(f"{label}: {bad}")
    return theme


def load_themes(dirs: list[Path] | None = None) -> ThemeSet:
    """Load every *.toml theme in ``dirs`` (default: shipped, then user). Later dirs win."""
    if dirs is None:
        dirs = [*shipped_theme_dirs(), user_theme_dir()]
    result = ThemeSet()
    by_name: dict[str, Theme] = {}
    for directory in dirs:
        try:
            if not directory.is_dir():
                continue
            paths = sorted(directory.glob("*.toml"))
        except OSError as exc:
            result.errors.append(f"{safe_text(str(directory), 80)}: cannot list ({exc.strerror})")
            continue
        for path in paths:
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                result.errors.append(str(exc))
                continue
            by_name[theme.name] = theme
    result.themes = list(by_name.values())
    return result


def install_themes(app: App[int], requested: str | None, dirs: list[Path] | None) -> tuple[list[str], list[str]]:
    """Register udpscope's themes with ``app`` and pick the requested one (or the default).

    Returns:
        (the names of the themes loaded, notices to show once the app runs).
    """
    loaded = load_themes(dirs)
    names: list[str] = []
    notes: list[str] = []
    for theme in loaded.themes:
        app.register_theme(theme)
        names.append(theme.name)
    if loaded.errors:
        notes.append("Skipped bad theme file(s): " + "; ".join(safe_text(e, 200) for e in loaded.errors))
    wanted = requested or DEFAULT_THEME
    if wanted in names:
        app.theme = wanted
    else:
        fallback = DEFAULT_THEME if DEFAULT_THEME in names else "textual-dark"
        app.theme = fallback
        if requested:
            notes.append(f"Unknown theme {safe_text(requested, 60)!s}; using {fallback}. "
                         f"Available: {', '.join(sorted(names))}")
    app.stylesheet.set_variables(app.get_css_variables())
    return names, notes


def switch_theme(app: App[int], name: str) -> bool:
    """Make ``name`` the theme if the whole stylesheet parses with it; else notify and keep.

    Returns:
        True if the theme changed.
    """
    from textual.css.stylesheet import StylesheetError

    theme = app.get_theme(name)
    if theme is None:
        app.notify(f"No theme named {safe_text(name, 40)!r}", title="Themes", severity="error",
                   markup=False)
        return False
    variables = {**app.get_theme_variable_defaults(), **theme.to_color_system().generate(),
                 **theme.variables}
    trial = app.stylesheet.copy()
    trial.set_variables(variables)
    try:
        trial.reparse()
    except (StylesheetError, Exception) as exc:
        app.notify(f"Theme {safe_text(name, 40)} cannot be used ({safe_text(str(exc), 160)}); "
                   f"keeping {safe_text(app.theme, 40)}.", title="Themes", severity="error",
                   markup=False)
        return False
    app.theme = name
    return True
