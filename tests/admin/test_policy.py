from __future__ import annotations

import pytest

from ragsilo.admin.policy import check_password, check_role_name, check_username, password_kinds
from ragsilo.admin.rbac import preset_grants
from ragsilo.errors import InputError, PolicyError


@pytest.mark.parametrize("name", ["a", "Alice", "reader_1", "x" * 32, "A1_b2"])
def test_good_names(name: str) -> None:
    assert check_username(name) == name and check_role_name(name) == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "name-not-empty"),
        ("1abc", "name-starts-with-letter"),
        ("_abc", "name-starts-with-letter"),
        ("éclair", "name-starts-with-letter"),
        ("x" * 33, "name-length"),
        ("a-b", "name-characters"),
        ("a b", "name-characters"),
        ("aé", "name-characters"),
    ],
)
def test_bad_names_name_the_rule(name: str, rule: str) -> None:
    with pytest.raises(PolicyError) as e:
        check_username(name)
    assert e.value.rule == rule and e.value.exit_code == 2 and e.value.http_status == 400


@pytest.mark.parametrize(
    "password", ["Abcdefg1", "abcdefg1!", "ABCDEFG1!", "Abcdefgh!", "x" * 60 + "A1!x"]
)
def test_good_passwords(password: str) -> None:
    assert check_password(password) == password


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!", "password-length"),
        ("Ab1!" * 17, "password-length"),
        ("abcdefgh", "password-character-kinds"),
        ("abcdefg1", "password-character-kinds"),
        ("ABCDEFG!", "password-character-kinds"),
        ("Abc1!\nxyz", "password-characters"),
    ],
)
def test_bad_passwords_name_the_rule_not_the_password(password: str, rule: str) -> None:
    with pytest.raises(PolicyError) as e:
        check_password(password)
    assert e.value.rule == rule
    assert password not in str(e.value)


def test_kinds_counted() -> None:
    assert password_kinds("aA1!") == {"upper case", "lower case", "digit", "special character"}
    assert password_kinds("aa bb") == {"lower case", "special character"}


def test_presets_build_on_each_other() -> None:
    reader = {g.privilege for g in preset_grants("reader", ["c"])}
    writer = {g.privilege for g in preset_grants("writer", ["c"])}
    admin = preset_grants("admin", ["c", "c_centroids"])
    assert {"Search", "Query", "GetLoadState"} <= reader < writer
    assert {"Insert", "Upsert", "Delete", "Flush"} <= writer - reader
    assert {(g.object_name, g.privilege) for g in admin if g.object_type == "Collection"} == {
        ("c", "*"),
        ("c_centroids", "*"),
    }
    assert "CreateCollection" in {g.privilege for g in admin if g.object_type == "Global"}
    with pytest.raises(InputError, match="reader, writer, admin"):
        preset_grants("owner", ["c"])
