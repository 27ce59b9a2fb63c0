"""Security headers: parse CSP and HSTS, and audit a response (RFC 6797, OWASP Secure Headers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


# ----------------------------------------------------------------------------------- header parsing + audit


def parse_csp(value: str) -> dict[str, list[str]]:
    """``"default-src 'self'; img-src *"`` → ``{"default-src": ["'self'"], "img-src": ["*"]}``.

    Directive names are case-insensitive (lower-cased here); a repeated directive is ignored after its first
    occurrence, as the CSP Level 3 parser does. Source expressions keep their case and quotes.
    """
    policy: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if name not in policy:
            policy[name] = tokens[1:]
    return policy


def parse_hsts(value: str) -> dict[str, Any]:
    """``"max-age=31536000; includeSubDomains"`` → ``{"max-age": 31536000, "includesubdomains": True}``.

    RFC 6797 §6.1: directive names are case-insensitive, ``max-age`` is required and is in **seconds**.
    A ``max-age`` that is not a non-negative integer is returned as the raw string so an audit can say so.
    """
    out: dict[str, Any] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, _, raw = part.strip().partition("=")
        name = name.strip().lower()
        raw = raw.strip().strip('"')
        if name == "max-age":
            out[name] = int(raw) if raw.isdigit() else raw
        else:
            out[name] = raw or True
    return out


_KEYWORDS = ("self", "none", "unsafe-inline", "unsafe-eval", "strict-dynamic", "unsafe-hashes")
_SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
#: The course's floor for HSTS max-age: one year, the value the syllabus' helmet config and MDN's examples use.
HSTS_MIN_SECONDS = 31536000


def header_problems(headers: Mapping[str, str], *, https: bool) -> list[str]:  # noqa: C901 - one rule per header
    """What is missing or weak in a response's security headers; ``[]`` when all is well.

    ``https`` says how the response travelled: RFC 6797 §7.2 forbids ``Strict-Transport-Security`` on plain
    HTTP (a browser ignores it there anyway, §8.1), and it must be present over HTTPS. The other rules follow
    the OWASP Secure Headers Project and MDN; the one-year HSTS floor and forbidding ``'unsafe-inline'`` for
    scripts are this course's choices (both are OWASP's recommendations too).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    problems: list[str] = []
    csp_value = lower.get("content-security-policy")
    if csp_value is None:
        problems.append("Content-Security-Policy is missing (try \"default-src 'self'; frame-ancestors 'none'\").")
    else:
        csp = parse_csp(csp_value)
        if "default-src" not in csp:
            problems.append(f"Content-Security-Policy {csp_value!r} has no default-src: every other type is open.")
        for name, sources in csp.items():
            for src in sources:
                if src.lower() in _KEYWORDS:
                    problems.append(
                        f"Content-Security-Policy {name} has {src} without quotes: a browser reads it as a host "
                        f"name. Keywords are quoted: '{src.lower()}'."
                    )
        script = csp.get("script-src", csp.get("default-src", []))
        if "'unsafe-inline'" in [s.lower() for s in script]:
            problems.append(
                "Content-Security-Policy allows 'unsafe-inline' scripts: that switches off CSP's protection "
                "against injected <script> (XSS). Move inline scripts to files, or use nonces/hashes."
            )
        if "frame-ancestors" not in csp and "x-frame-options" not in lower:
            problems.append("No clickjacking defence: add frame-ancestors 'none' to the CSP (or X-Frame-Options).")
    if lower.get("x-content-type-options", "").strip().lower() != "nosniff":
        problems.append(
            f"X-Content-Type-Options must be exactly 'nosniff'; found {lower.get('x-content-type-options')!r}."
        )
    xfo = lower.get("x-frame-options")
    if xfo is None:
        problems.append("X-Frame-Options is missing (DENY, or SAMEORIGIN; older browsers ignore frame-ancestors).")
    elif xfo.strip().upper() not in ("DENY", "SAMEORIGIN"):
        problems.append(f"X-Frame-Options {xfo!r}: only DENY and SAMEORIGIN work (ALLOW-FROM is obsolete).")
    ref = lower.get("referrer-policy")
    if ref is None:
        problems.append("Referrer-Policy is missing (strict-origin-when-cross-origin or no-referrer).")
    elif ref.split(",")[-1].strip().lower() not in _SAFE_REFERRER:
        problems.append(f"Referrer-Policy {ref!r} sends full URLs to other sites; use strict-origin-when-cross-origin.")
    sts = lower.get("strict-transport-security")
    if not https:
        if sts is not None:
            problems.append(
                "Strict-Transport-Security was sent over plain HTTP: RFC 6797 §7.2 says a server MUST NOT (a browser "
                "ignores it, §8.1). Send it only when the request came over HTTPS (request.url.scheme == 'https')."
            )
    elif sts is None:
        problems.append("Strict-Transport-Security is missing on an HTTPS response.")
    else:
        age = parse_hsts(sts).get("max-age")
        if not isinstance(age, int):
            problems.append(f"Strict-Transport-Security {sts!r} has no integer max-age (in seconds).")
        elif age < HSTS_MIN_SECONDS:
            problems.append(f"Strict-Transport-Security max-age={age} is under one year ({HSTS_MIN_SECONDS} s).")
    return problems
