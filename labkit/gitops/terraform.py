"""A small Terraform tree parsed with python-hcl2, and the IaC practice checks (plan before apply)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TERRAFORM_TREE: dict[str, str] = {
    "versions.tf": """\
terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
""",
    "main.tf": """\
provider "aws" {
  region = var.region
}

resource "aws_iam_role" "cluster" {
  name               = "eks-${var.environment}"
  assume_role_policy = file("${path.module}/eks-assume-role.json")
}

resource "aws_eks_cluster" "main" {
  name     = var.cluster_name
  role_arn = aws_iam_role.cluster.arn
  version  = "1.24"

  vpc_config {
    subnet_ids = module.vpc.private_subnets
  }

  tags = {
    Environment = "production"
    Team        = "backend"
  }
}

output "cluster_endpoint" {
  value = aws_eks_cluster.main.endpoint
}
""",
    "database.tf": """\
resource "aws_db_instance" "orders" {
  identifier        = "orders-${var.environment}"
  engine            = "postgres"
  instance_class    = var.db_instance_class
  allocated_storage = 20
  username          = "orders"
  password          = "s3cr3t-Passw0rd"
}
""",
    "network.tf": """\
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"

  name = "main-${var.environment}"
  cidr = "10.0.0.0/16"
}

module "dns" {
  source      = "./modules/dns"
  environment = var.environment
}
""",
    "variables.tf": """\
variable "environment" {
  type        = string
  description = "staging or production: one code base, one tfvars file per environment"
}

variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "cluster_name" {
  type = string
}

variable "db_instance_class" {
  type    = string
  default = "db.t3.micro"
}
""",
    "envs/staging.tfvars": """\
environment       = "staging"
cluster_name      = "backend-staging"
db_instance_class = "db.t3.micro"
""",
    "envs/production.tfvars": """\
environment       = "production"
cluster_name      = "backend-production"
db_instance_class = "db.r6g.large"
""",
    "modules/dns/main.tf": """\
variable "environment" {
  type = string
}

resource "aws_route53_zone" "internal" {
  name = "${var.environment}.internal.example.com"
}
""",
    ".github/workflows/terraform.yml": """\
name: terraform
on:
  push:
    branches: [main]
jobs:
  apply:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: terraform init
      - run: terraform apply -auto-approve -var-file=envs/production.tfvars
""",
}


def _hcl_options() -> Any:
    from hcl2.utils import SerializationOptions

    # no comments, no block markers: plain dicts and lists; strings keep their quotes (a literal is '"x"',
    # an expression is '${var.x}'), which is exactly what a secrets check needs to tell them apart
    return SerializationOptions(with_comments=False, explicit_blocks=False)


def parse_terraform(files: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Parse ``.tf`` and ``.tfvars`` texts (name → HCL) with python-hcl2; other files are left out.

    Each value is hcl2's dict: blocks are lists of dicts, labels and literal strings keep their double quotes
    (``'"aws_eks_cluster"'``, ``'"1.24"'``), expressions read ``'${var.cluster_name}'``; numbers and booleans are
    Python numbers and booleans. A file that is not valid HCL raises ``ValueError`` naming the file.
    """
    import hcl2

    parsed: dict[str, dict[str, Any]] = {}
    for name in sorted(files):
        if not name.endswith((".tf", ".tfvars")):
            continue
        try:
            parsed[name] = hcl2.loads(files[name], serialization_options=_hcl_options())
        except Exception as err:  # noqa: BLE001 - lark raises many kinds; the student needs the file name
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"{name} is not valid HCL2: {first}") from None
    return parsed


def load_terraform(folder: str | Path) -> dict[str, dict[str, Any]]:
    """Parse every ``.tf`` and ``.tfvars`` file under ``folder`` (keys are paths relative to it, with ``/``)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder: pass the root of a Terraform tree")
    files = {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".tf", ".tfvars")
    }
    return parse_terraform(files)


@contextmanager
def terraform_tree(files: Mapping[str, str] | None = None) -> Iterator[Path]:
    """Write a Terraform tree (default :data:`TERRAFORM_TREE`) into a temporary folder; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="labkit-tf-") as tmp:
        root = Path(tmp)
        for name, text in (TERRAFORM_TREE if files is None else files).items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        yield root


_LITERAL = re.compile(r'^"(?:[^"\\$]|\\.|\$(?!\{))*"$')


def is_literal(value: Any) -> bool:
    """True for a quoted string literal from hcl2 (``'"abc"'``), False for expressions such as
    ``'${var.x}'`` or ``'"app-${var.env}"'`` (an interpolation is computed, not written down) and non-strings."""
    return isinstance(value, str) and bool(_LITERAL.match(value))


def unquote(value: Any) -> Any:
    """``'"aws"'`` → ``'aws'``; anything that is not a quoted string comes back unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    return value


def plan_before_apply(workflow: Mapping[str, Any]) -> list[str]:
    """Problems with "plan before apply" in a CI workflow (a dict from :func:`labkit.ci.load_workflow`).

    The rule (HashiCorp's recommended workflow: write, plan, apply): in every job, each ``terraform apply``
    applies a saved plan file that an earlier step of the same job wrote with ``terraform plan -out=FILE``.
    ``apply -auto-approve`` without a plan file applies whatever the code means at that moment, unreviewed.
    Returns one sentence per problem (``[]`` when the workflow follows the rule).
    """
    problems: list[str] = []
    jobs = workflow.get("jobs") or {}
    for job_name, job in jobs.items():
        saved: set[str] = set()
        for i, step in enumerate((job or {}).get("steps") or []):
            run = str((step or {}).get("run") or "")
            for line in run.splitlines():
                words = line.split()
                if len(words) < 2 or words[0] != "terraform":
                    continue
                if words[1] == "plan":
                    for w in words[2:]:
                        if w.startswith("-out="):
                            saved.add(w.removeprefix("-out="))
                elif words[1] == "apply":
                    plan_files = [w for w in words[2:] if not w.startswith("-")]
                    if not plan_files:
                        problems.append(
                            f"job {job_name!r}, step {i + 1}: `{line.strip()}` applies without a "
                            "saved plan: run `terraform plan -out=tfplan` first and "
                            "`terraform apply tfplan`"
                        )
                    elif plan_files[-1] not in saved:
                        problems.append(
                            f"job {job_name!r}, step {i + 1}: `{line.strip()}` applies "
                            f"{plan_files[-1]!r}, which no earlier `terraform plan -out=` wrote"
                        )
    return problems


# -- the picture --------------------------------------------------------------------------------------------
