"""Administration of a silo's Milvus server: users, roles, presets and the account policy."""

from ragsilo.admin.policy import check_password, check_role_name, check_username
from ragsilo.admin.rbac import PRESETS, Admin, UserInfo, preset_grants

__all__ = [
    "PRESETS",
    "Admin",
    "UserInfo",
    "check_password",
    "check_role_name",
    "check_username",
    "preset_grants",
]
