"""labkit.strategies: PromQL's histogram_quantile, the Terraform checker, and a lab that always cleans up."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest

from labkit import service, strategies

GOOD_VARIABLES = """
variable "environment" {
  type = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "dev, staging or prod"
  }
}
variable "instance_type" { type = string }
variable "owner" {
  type    = string
  default = "team-orders"
}
"""
GOOD_MAIN = """
resource "aws_instance" "app" {
  ami           = "ami-12345"
  instance_type = var.instance_type
  tags = {
    Name        = "app-${var.environment}"
    Environment = var.environment
    Owner       = var.owner
  }
}
"""


def _tfvars(**overrides: str | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {
        env: f'environment = "{env}"\ninstance_type = "t3.micro"\n' for env in strategies.ENVIRONMENTS
    }
    out.update(overrides)
    return out


# ------------------------------------------------------------------------------------------ histogram_quantile


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.95, [(0.01, 90.0), (0.1, 100.0), (math.inf, 100.0)], 0.055),  # interpolation in the 2nd bucket
        (0.5, [(0.01, 90.0), (0.1, 100.0), (math.inf, 100.0)], 0.01 * 50 / 90),  # lower bound 0 for the 1st
        (0.99, [(0.01, 10.0), (0.1, 20.0), (math.inf, 100.0)], 0.1),  # rank in +Inf: highest finite bound
        (0.5, [(math.inf, 10.0), (0.1, 10.0), (0.01, 0.0)], 0.055),  # unsorted input is sorted by bound
        (1.0, [(0.01, 5.0), (0.1, 10.0), (math.inf, 10.0)], 0.1),
        (0.0, [(0.01, 5.0), (0.1, 10.0), (math.inf, 10.0)], 0.0),
    ],
)
def test_histogram_quantile_follows_promql(q: float, buckets: list[tuple[float, float]], expected: float) -> None:
    assert strategies.histogram_quantile(q, buckets) == pytest.approx(expected)


def test_histogram_quantile_edge_cases() -> None:
    assert math.isnan(strategies.histogram_quantile(0.9, [(0.1, 0.0), (math.inf, 0.0)]))  # no observations
    assert math.isnan(strategies.histogram_quantile(0.9, [(0.1, 3.0), (1.0, 5.0)]))  # no +Inf bucket
    assert math.isnan(strategies.histogram_quantile(0.9, [(math.inf, 3.0)]))  # a single bucket
    assert math.isnan(strategies.histogram_quantile(math.nan, [(0.1, 1.0), (math.inf, 1.0)]))
    assert strategies.histogram_quantile(-0.1, [(0.1, 1.0), (math.inf, 1.0)]) == -math.inf
    assert strategies.histogram_quantile(1.5, [(0.1, 1.0), (math.inf, 1.0)]) == math.inf
    # a non-monotonic scrape is forced monotonic, as Prometheus does
    assert strategies.histogram_quantile(0.5, [(0.1, 10.0), (0.2, 8.0), (math.inf, 10.0)]) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="upper_bound, cumulative_count"):
        strategies.histogram_quantile(0.5, [("fast", 1.0), (math.inf, 1.0)])  # type: ignore[list-item]


# ------------------------------------------------------------------------------------------------ Terraform


def test_a_good_configuration_has_no_problems() -> None:
    files = {"variables.tf": GOOD_VARIABLES, "main.tf": GOOD_MAIN}
    assert strategies.terraform_problems(files, _tfvars()) == []


def test_the_syllabus_snippet_is_reported() -> None:
    problems = strategies.terraform_problems({"main.tf": strategies.SYLLABUS_MAIN_TF}, {})
    text = "\n".join(problems)
    assert "tags lack the required tag 'Owner'" in text
    assert 'no variable "environment" is declared' in text
    assert "var.environment is used but" in text
    assert all(f"{env}.tfvars is missing" in text for env in strategies.ENVIRONMENTS)
    assert problems == sorted(problems)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Environment = var.environment", 'Environment = "prod"', "hard-codes the environment name 'prod'"),
        ('Name        = "app-${var.environment}"', 'Name = "app-dev"', "hard-codes the environment name 'dev'"),
        ('ami           = "ami-12345"', 'count = var.environment == "prod" ? 3 : 1', "'prod'"),
        ("    Owner       = var.owner\n", "", "tags lack the required tag 'Owner'"),
        ("var.instance_type", "var.size", 'var.size is used but no variable "size"'),
    ],
)
def test_each_rule_catches_its_mistake(old: str, new: str, expected: str) -> None:
    assert GOOD_MAIN.count(old) == 1
    files = {"variables.tf": GOOD_VARIABLES, "main.tf": GOOD_MAIN.replace(old, new)}
    problems = strategies.terraform_problems(files, _tfvars())
    assert any(expected in p for p in problems), problems


def test_words_that_contain_an_environment_name_are_not_flagged() -> None:
    main = GOOD_MAIN.replace(
        'ami           = "ami-12345"', 'ami = "ami-12345"\n  description = "production-ready devices"'
    )
    assert strategies.terraform_problems({"v.tf": GOOD_VARIABLES, "main.tf": main}, _tfvars()) == []


def test_tfvars_rules() -> None:
    files = {"variables.tf": GOOD_VARIABLES, "main.tf": GOOD_MAIN}
    copied = strategies.terraform_problems(files, _tfvars(prod='environment = "dev"\ninstance_type = "t3.large"\n'))
    assert copied == ["prod.tfvars sets environment = 'dev', expected 'prod'"]
    missing = strategies.terraform_problems(files, _tfvars(staging='environment = "staging"\n'))
    assert missing == ["staging.tfvars does not set 'instance_type', which has no default"]
    typo = strategies.terraform_problems(
        files, _tfvars(dev='environment = "dev"\ninstance_type = "t3.micro"\ninstance_typo = "x"\n')
    )
    assert typo == ["dev.tfvars sets 'instance_typo', which no variable block declares (a typo?)"]
    gone = strategies.terraform_problems(files, _tfvars(dev=None))
    assert gone == ["dev.tfvars is missing: each environment needs its own values"]
    no_tags = strategies.terraform_problems(
        {"variables.tf": GOOD_VARIABLES, "main.tf": 'resource "aws_s3_bucket" "logs" {\n  bucket = "x"\n}\n'},
        _tfvars(),
    )
    assert no_tags == ["aws_s3_bucket.logs (main.tf): no tags map; required tags: Name, Environment, Owner"]
    expression = strategies.terraform_problems(
        {"variables.tf": GOOD_VARIABLES, "main.tf": 'resource "aws_s3_bucket" "logs" {\n  tags = local.common\n}\n'},
        _tfvars(),
    )
    assert len(expression) == 1 and "is an expression; write a map literal" in expression[0], expression


def test_invalid_hcl_names_file_line_and_column() -> None:
    with pytest.raises(strategies.HclError, match=r"broken\.tf is not valid HCL at line 3"):
        strategies.load_hcl('resource "a" "b" {\n  x = 1\n', what="broken.tf")
    with pytest.raises(strategies.HclError, match=r"prod\.tfvars is not valid HCL"):
        strategies.terraform_problems({"main.tf": GOOD_MAIN}, _tfvars(prod="environment = \n"))
    with pytest.raises(TypeError, match="as a str"):
        strategies.load_hcl(b"x = 1")  # type: ignore[arg-type]


def test_load_hcl_gives_plain_values() -> None:
    doc = strategies.load_hcl(strategies.SYLLABUS_MAIN_TF)
    app = doc["resource"][0]["aws_instance"]["app"]
    assert app["ami"] == "ami-12345"
    assert app["tags"] == {"Name": "app-${var.environment}", "Environment": "${var.environment}"}


def test_check_terraform_reads_a_folder(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(GOOD_MAIN)
    (tmp_path / "variables.tf").write_text(GOOD_VARIABLES)
    for env, text in _tfvars().items():
        assert text is not None
        (tmp_path / f"{env}.tfvars").write_text(text)
    assert strategies.check_terraform(tmp_path) == []
    (tmp_path / "prod.tfvars").unlink()
    assert strategies.check_terraform(str(tmp_path)) == [
        "prod.tfvars is missing: each environment needs its own values"
    ]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        strategies.check_terraform(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"no \*\.tf file"):
        strategies.check_terraform(empty)


# ------------------------------------------------------------------------------------------------------ lab


@pytest.mark.service
def test_lab_starts_versions_behind_the_splitter_and_stops_everything() -> None:
    with strategies.lab({"blue": "1.0.0", "green": "1.1.0"}, faults={"green": {"unhealthy": True}}) as lab:
        assert httpx.get(lab.url + "/version", timeout=5).json()["version"] == "1.0.0"
        assert lab.splitter.state()["weights"] == {"blue": 100.0, "green": 0.0}
        assert httpx.get(lab["green"].url + "/health", timeout=5).status_code == 503  # started, not healthy
        with pytest.raises(KeyError, match="the names are"):
            lab["purple"]
        procs = [lab["blue"], lab["green"]]
        sp = lab.splitter
    assert not any(p.alive for p in procs)
    assert not sp.alive


@pytest.mark.service
def test_lab_cleans_up_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="student bug"), strategies.lab({"stable": "1.0.0"}) as lab:
        svc = lab["stable"]
        raise RuntimeError("student bug")
    assert not svc.alive


def test_lab_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="versions must be a dict"), strategies.lab({}):
        pass
    with pytest.raises(ValueError, match="unknown version"), strategies.lab({"a": "1"}, faults={"b": {}}):
        pass
    with pytest.raises(ValueError, match="set_faults"), strategies.lab({"a": "1"}, faults={"a": {"hang": True}}):
        pass


@pytest.mark.service
def test_plots_draw_real_results() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with strategies.lab({"blue": "1.0.0", "green": "1.1.0"}) as lab:
        result = service.hammer(lab.url + "/api/orders", n=20, concurrency=2)
    ax = strategies.plot_switch(result, 0.1)
    assert ax.get_xlabel() == "seconds since the load started"
    window = {"requests": 20, "errors": 0, "error_rate": 0.0, "p95_ms": 1.0}
    rollout = strategies.RolloutResult(
        "promoted", [{"weight": 5, "stable": window, "canary": window, "verdict": "promote"}]
    )
    fig = strategies.plot_rollout(rollout)
    assert len(fig.axes) == 3
    plt.close("all")
    with pytest.raises(ValueError, match="at least one step"):
        strategies.plot_rollout(strategies.RolloutResult("aborted", []))
