"""Themes are data files, so users can add or tweak one without touching code.

Shipped themes live in the top-level themes/ directory, which the wheel carries as
udpscope/themes; in an editable install the package directory has none, so we fall back to the
repository's themes/. User themes come from platformdirs' user_config_dir("udpscope")/themes and
may override a shipped theme of the same name. A broken file never stops the app: it is reported
(once, by the caller) and skipped, and the app falls back to the default theme.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_config_dir
from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "udpscope-dark"
_COLOR_KEYS = (
    "primary", "secondary", "warning", "error", "success", "accent",
    "foreground", "background", "surface", "panel", "boost",
)


class ThemeFileError(ValueError):
    """A theme file that cannot be used (the message names the file and the reason)."""


@dataclass
class ThemeSet:
    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def shipped_theme_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent.parent  # udpscope/
    packaged = here / "themes"
    if packaged.is_dir():
        return [packaged]
    repo = here.parent / "themes"
    return [repo] if repo.is_dir() else []


def user_theme_dir() -> Path:
    return Path(user_config_dir("udpscope")) / "themes"


def load_theme_file(path: Path) -> Theme:
    """Parse one TOML theme; raises ThemeFileError with a one-line reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"{path.name}: cannot read ({exc.__class__.__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path.name}: not valid TOML ({exc})") from exc
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"{path.name}: 'name' must be a non-empty string")
    if "primary" not in data:
        raise ThemeFileError(f"{path.name}: 'primary' colour is required")
    kwargs: dict[str, object] = {}
    for key in _COLOR_KEYS:
        if key in data:
            value = data[key]
            if not isinstance(value, str):
                raise ThemeFileError(f"{path.name}: '{key}' must be a colour string")
            try:
                Color.parse(value)
            except ColorParseError as exc:
                raise ThemeFileError(f"{path.name}: '{key}' is not a colour: {value!r}") from exc
            kwargs[key] = value
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{path.name}: 'dark' must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeFileError(f"{path.name}: [variables] must map names to strings")
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **kwargs)  # type: ignore[arg-type]


def load_themes(dirs: list[Path] | None = None) -> ThemeSet:
    """Load every *.toml theme in ``dirs`` (default: shipped, then user). Later dirs win."""
    if dirs is None:
        dirs = [*shipped_theme_dirs(), user_theme_dir()]
    result = ThemeSet()
    by_name: dict[str, Theme] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                result.errors.append(str(exc))
                continue
            by_name[theme.name] = theme
    result.themes = list(by_name.values())
    return result
