"""Week 19 (production security): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # Exercise 1 — the headers
    Misconception(
        "writes the CSP keyword self without its quotes",
        exercise="w19_headers_dict",
        edits=[("\"default-src 'self'; frame-ancestors 'none'\"", "\"default-src self; frame-ancestors 'none'\"")],
        why="helmet's JavaScript config writes \"'self'\" with two kinds of quotes; copied by hand, one pair is lost",
    ),
    Misconception(
        "sends HSTS whether or not the request came over HTTPS",
        exercise="w19_headers_dict",
        edits=[("    if https:\n        headers[", "    headers[")],
        why="'HTTPS everywhere' reads like 'HSTS everywhere'; RFC 6797 forbids it over plain HTTP",
    ),
    Misconception(
        "lets the page be framed by its own origin (frame-ancestors 'self')",
        exercise="w19_headers_dict",
        edits=[("frame-ancestors 'none'", "frame-ancestors 'self'")],
        passes_visible=True,
        why="'self' is the usual CSP value, so it looks like the safe default; the shop must not be framed at all",
    ),
    Misconception(
        "copies the syllabus' style-src 'unsafe-inline' into the CSP",
        exercise="w19_headers_dict",
        edits=[("default-src 'self'; frame", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame")],
        passes_visible=True,
        why="the syllabus' helmet example has it, and inline styles 'just work' again",
    ),
    Misconception(
        "HSTS without includeSubDomains",
        exercise="w19_headers_dict",
        edits=[('"max-age=31536000; includeSubDomains"', '"max-age=31536000"')],
        passes_visible=True,
        why="max-age is the only required directive, so the rest looks optional",
    ),
    # Exercise 2 — the middleware
    Misconception(
        "adds the headers only to successful (200) responses",
        exercise="w19_headers_middleware",
        edits=[
            (
                "for name, value in self.headers.items():",
                "for name, value in (self.headers.items() if response.status_code == 200 else []):",
            )
        ],
        passes_visible=True,
        why="error pages feel unimportant; they are often the pages an attacker controls the most",
    ),
    Misconception(
        "does not catch the handler's exception, so the 500 has no headers",
        exercise="w19_headers_middleware",
        edits=[
            (
                "try:\n            response = await call_next(request)\n        except Exception:\n"
                '            response = PlainTextResponse("Internal Server Error", status_code=500)',
                "response = await call_next(request)",
            )
        ],
        passes_visible=True,
        why="a 500 still comes back, so it looks handled; Starlette builds it outside the middleware",
    ),
    Misconception(
        "sends HSTS on every response once it is configured",
        exercise="w19_headers_middleware",
        edits=[('if request.url.scheme == "https":', "if self.hsts:")],
        why="the app only sees plain HTTP behind the proxy, so checking the scheme seems pointless",
    ),
    # Exercise 3 — the token bucket
    Misconception(
        "no lock around the read-modify-write",
        exercise="w19_token_bucket",
        edits=[("with self._lock:", "if True:")],
        why="under the GIL a quick test almost never shows the race; in production it lets bursts through",
    ),
    Misconception(
        "reads the real clock instead of the injected one",
        exercise="w19_token_bucket",
        edits=[("now = self.clock()", "now = time.monotonic()")],
        why="time.monotonic() is the right clock, so ignoring the parameter looks harmless",
    ),
    Misconception(
        "does not cap the tokens at capacity (an idle client saves up an unlimited burst)",
        exercise="w19_token_bucket",
        edits=[
            (
                "tokens = min(self.capacity, tokens + (now - last) * self.rate)",
                "tokens = tokens + (now - last) * self.rate",
            )
        ],
        passes_visible=True,
        why="every short test passes; only a long idle period shows it",
    ),
    Misconception(
        "retry_after ignores the part of a token already refilled",
        exercise="w19_token_bucket",
        edits=[("return False, (1.0 - tokens) / self.rate", "return False, 1.0 / self.rate")],
        passes_visible=True,
        why="'one token takes 1/rate seconds' is true only from an empty bucket",
    ),
    # Exercise 4 — 429 and Retry-After
    Misconception(
        'writes Retry-After as a float ("30.0")',
        exercise="w19_rate_limit_middleware",
        edits=[("str(math.ceil(retry_after))", "str(retry_after)")],
        why="the limiter returns a float and str() looks like enough; RFC 9110 wants whole seconds",
    ),
    Misconception(
        "rounds Retry-After down with int()",
        exercise="w19_rate_limit_middleware",
        edits=[("str(math.ceil(retry_after))", "str(int(retry_after))")],
        passes_visible=True,
        why="int() is the reflex for 'make it a whole number'; a client that waits 2 s for 2.2 is rejected again",
    ),
    Misconception(
        "one bucket for all clients",
        exercise="w19_rate_limit_middleware",
        edits=[('key = request.client.host if request.client else "unknown"', 'key = "global"')],
        passes_visible=True,
        why="in a local test every request comes from 127.0.0.1, so a global limit looks the same",
    ),
    Misconception(
        "answers 503 Service Unavailable instead of 429",
        exercise="w19_rate_limit_middleware",
        edits=[("status_code=429", "status_code=503")],
        why="'the service refuses' sounds like 503, and 503 may carry Retry-After too",
    ),
    # Exercise 5 — NetworkPolicy flows
    Misconception(
        "checks only the destination's ingress, never the source's egress",
        exercise="w19_netpol_flows",
        edits=[("return egress_ok and ingress_ok", "return ingress_ok")],
        why="most examples only write ingress rules; policies are thought of as firewalls in front of a pod",
    ),
    Misconception(
        "reads one from-item with both selectors as OR",
        exercise="w19_netpol_flows",
        edits=[
            ("selector_matches(ns_sel, ns_labels) and hardening", "selector_matches(ns_sel, ns_labels) or hardening")
        ],
        passes_visible=True,
        why="the documentation itself warns that the one-dash difference between AND and OR is easy to miss",
    ),
    Misconception(
        "a podSelector peer matches pods in any namespace",
        exercise="w19_netpol_flows",
        edits=[("return other.namespace == policy_namespace and hardening", "return hardening")],
        passes_visible=True,
        why="labels look global; in a single-namespace demo the difference never shows",
    ),
    Misconception(
        "a policy selects pods in every namespace, not only its own",
        exercise="w19_netpol_flows",
        edits=[
            ('if p["metadata"].get("namespace", "default") == pod.namespace\n        and direction', "if direction")
        ],
        passes_visible=True,
        why="podSelector: {} reads as 'all pods', full stop",
    ),
    Misconception(
        "a port entry without a port number matches no port",
        exercise="w19_netpol_flows",
        edits=[('if "port" not in entry:\n            return True', 'if "port" not in entry:\n            continue')],
        passes_visible=True,
        why="an entry without a port looks incomplete; the docs say it means every port of the protocol",
    ),
    Misconception(
        "without policyTypes, a policy isolates only the directions it has sections for",
        exercise="w19_netpol_flows",
        edits=[
            (
                'return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]',
                'return [d for d, k in (("Ingress", "ingress"), ("Egress", "egress")) if k in spec]',
            )
        ],
        passes_visible=True,
        why=(
            "it sounds logical; the API always sets Ingress, so an egress-only policy without policyTypes"
            " closes ingress too"
        ),
    ),
]
