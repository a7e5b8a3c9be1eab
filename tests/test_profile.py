"""Profiles: every shipped profile is valid; a bad one is refused with the file, line and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from presswatch.profile import ProfileError, load_profile, parse_profile

CONFIG = Path(__file__).resolve().parents[1] / "config"
GOOD = (CONFIG / "demo.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_profiles_are_valid(path: Path) -> None:
    profile = load_profile(path)
    assert profile.officials and profile.facts and profile.digest.recipients
    assert profile.municipality.country in {"SK", "CZ", "LT", "TR", "MK"}


def test_one_example_per_country() -> None:
    countries = {load_profile(p).municipality.country for p in CONFIG.glob("*.yaml")}
    assert countries == {"SK", "CZ", "LT", "TR", "MK"}


def test_bare_name_resolves_to_config() -> None:
    assert load_profile("demo").id == "stara-horka"


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "town.yaml")
    assert "town.yaml" in str(info.value)
    return list(info.value.problems)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unknown_key_is_named_with_its_line() -> None:
    bad = GOOD.replace("  timezone: Europe/Bratislava", "  timzone: Europe/Bratislava")
    problems = _problems(bad)
    keys = {key for _, key, _ in problems}
    assert "municipality.timzone" in keys  # the typo, as an unknown key
    assert "municipality.timezone" in keys  # and the missing required key
    line = next(line for line, key, _ in problems if key == "municipality.timzone")
    assert line == _line_of(bad, "timzone:")
    assert f"town.yaml:{line}" in str(ProfileError("town.yaml", tuple(problems)))


def test_bad_time_zone() -> None:
    bad = GOOD.replace("Europe/Bratislava", "Europe/Bratislawa")
    (line, key, msg), = _problems(bad)
    assert key == "municipality.timezone" and "Europe/Bratislawa" in msg
    assert line == _line_of(bad, "Europe/Bratislawa")


def test_wrong_type_in_a_list_item() -> None:
    bad = GOOD.replace("{id: horcan, name: Hôrčan, tier: 3", "{id: horcan, name: Hôrčan, tier: high")
    (line, key, msg), = _problems(bad)
    assert key == "outlets[0].tier" and "integer" in msg
    assert line == _line_of(bad, "tier: high")


def test_bad_send_time() -> None:
    keys = {key: msg for _, key, msg in _problems(GOOD.replace("send_at: '07:00'", "send_at: '7am'"))}
    assert "7am" in keys["digest.send_at"]


def test_source_naming_an_unknown_outlet() -> None:
    (_, _, msg), = _problems(GOOD.replace("outlet: herald, url", "outlet: heraldd, url"))
    assert "heraldd" in msg and "herald-rss" in msg


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    (line, _, msg), = _problems("municipality: [unclosed\n")
    assert "YAML" in msg and line is not None
    with pytest.raises(ProfileError, match="no such profile"):
        load_profile(tmp_path / "missing.yaml")


def test_db_path_environment_overrides_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = load_profile("demo")
    monkeypatch.delenv("PRESSWATCH_DB", raising=False)
    assert profile.db_path(tmp_path) == tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(tmp_path / "other.db"))
    assert profile.db_path() == tmp_path / "other.db"


def test_misspelt_places_key_is_named_with_its_line() -> None:
    bad = GOOD.replace("  places: [", "  plcaes: [")
    assert bad != GOOD
    problems = _problems(bad)
    line = next(line for line, key, _ in problems if key == "municipality.plcaes")
    assert line == _line_of(bad, "plcaes:")
    assert f"town.yaml:{line}" in str(ProfileError("town.yaml", tuple(problems)))


def test_a_place_that_is_not_a_name_is_named_with_its_line() -> None:
    bad = GOOD.replace("  places: [Hôrka, Podháj]", "  places:\n    - Hôrka\n    - {name: Podháj}")
    assert bad != GOOD
    (line, key, _), = _problems(bad)
    assert key == "municipality.places[1]"
    assert line == _line_of(bad, "{name: Podháj}")
