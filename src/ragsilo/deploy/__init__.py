"""Deployment: render compose, kind, milvus-operator and EKS files, and check them offline.

Example::

    params = make_params(target="eks", s3_bucket=..., s3_region=..., s3_role_arn=...)
    rendered = render(params)
    rendered.write(Path("deploy-eks"))
    report = validate_dir(Path("deploy-eks"))
"""

from ragsilo.deploy.params import DeployParams, make_params
from ragsilo.deploy.render import Rendered, render
from ragsilo.deploy.sizing import Sizing, estimate
from ragsilo.deploy.validate import ValidationReport, validate_dir

__all__ = [
    "DeployParams",
    "Rendered",
    "Sizing",
    "ValidationReport",
    "estimate",
    "make_params",
    "render",
    "validate_dir",
]
