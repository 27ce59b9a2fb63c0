"""Week 14 (Kubernetes): plausible wrong answers, each a minimal edit of the reference solution."""

from harness import Misconception

CASES = [
    # Exercise 1 — fix the Deployment
    Misconception(
        "deletes the misspelled replica: line instead of renaming it",
        exercise="w14_kube_fix_deployment",
        edits=[("  replicas: 3\n", "")],
        passes_visible=True,
        why="the validator stops complaining, and nobody notices that replicas now defaults to 1",
    ),
    Misconception(
        "keeps the port quoted, as a string",
        exercise="w14_kube_fix_deployment",
        edits=[("ports: [containerPort: 3000]", 'ports: [containerPort: "3000"]')],
        why="YAML looks the same to a person; the schema wants an integer",
    ),
    Misconception(
        "keeps the removed extensions/v1beta1 API from an old tutorial",
        exercise="w14_kube_fix_deployment",
        edits=[("apiVersion: apps/v1", "apiVersion: extensions/v1beta1")],
        why="the CLI only warns about it (exit code 0), so it looks fixed",
    ),
    Misconception(
        "leaves the image at myapp:latest",
        exercise="w14_kube_fix_deployment",
        edits=[("image: myapp:1.4.2", "image: myapp:latest")],
        passes_visible=True,
        why="the schema accepts any string as an image",
    ),
    # Exercise 2 — cross-object checks
    Misconception(
        "requires the selector to equal the Pod labels instead of being a subset",
        exercise="w14_kube_cross_object",
        edits=[("all(labels.get(key) == value for key, value in selector.items())", "selector == labels")],
        passes_visible=True,
        why="in the syllabus the two are identical, so equality looks right until Pods get a version label",
    ),
    Misconception(
        "matches the HPA's target against the Pod label app instead of the Deployment's name",
        exercise="w14_kube_cross_object",
        edits=[
            (
                'names = {dep["metadata"]["name"] for dep in deployments}',
                'names = {pod_labels(dep).get("app") for dep in deployments}',
            )
        ],
        why="the two names (Deployment app, label app: backend) are this week's most common mix-up",
    ),
    Misconception(
        "forgets that an omitted targetPort defaults to port",
        exercise="w14_kube_cross_object",
        edits=[('port.get("targetPort", port["port"])', 'port.get("targetPort")')],
        passes_visible=True,
        why="the default lives in the docs, not in the manifest",
    ),
    Misconception(
        "checks only httpGet probes, not tcpSocket or grpc ones",
        exercise="w14_kube_cross_object",
        edits=[('for action in ("httpGet", "tcpSocket", "grpc"):', 'for action in ("httpGet",):')],
        passes_visible=True,
        why="every example in the syllabus is an httpGet probe",
    ),
    # Exercise 3 — probe and resources policy
    Misconception(
        "reads a registry port as the image tag",
        exercise="w14_kube_policy",
        edits=[('last = name.rsplit("/", 1)[-1]', "last = name")],
        passes_visible=True,
        why="splitting on ':' works for Docker Hub names and breaks for registry:5000/app",
    ),
    Misconception(
        "demands requests.cpu although a CPU limit is copied into the request",
        exercise="w14_kube_policy",
        edits=[('if "cpu" not in requests and "cpu" not in limits:', 'if "cpu" not in requests:')],
        passes_visible=True,
        why="scanners flag it that way; Kubernetes defaults the request to the limit",
    ),
    Misconception(
        "looks for the memory limit under requests",
        exercise="w14_kube_policy",
        edits=[('if "memory" not in limits:', 'if "memory" not in requests:')],
        passes_visible=True,
        why="requests and limits sit next to each other and look alike",
    ),
    Misconception(
        "ignores the startup probe and sizes the boot with the liveness probe",
        exercise="w14_kube_policy",
        edits=[
            (
                'guard = container.get("startupProbe") or container.get("livenessProbe")',
                'guard = container.get("livenessProbe")',
            )
        ],
        why="startup probes are newer and less known than liveness probes",
    ),
    Misconception(
        "takes a missing failureThreshold as 1 instead of the default 3",
        exercise="w14_kube_policy",
        edits=[('probe.get("failureThreshold", 3)', 'probe.get("failureThreshold", 1)')],
        why="a probe that fails once feels like it should restart at once",
    ),
    # Exercise 4 — desired replicas
    Misconception(
        "rounds instead of taking the ceiling",
        exercise="w14_kube_desired_replicas",
        edits=[("desired = math.ceil(current * ratio)", "desired = round(current * ratio)")],
        why="rounding is the everyday reflex; the HPA rounds up so the Pods are not left overloaded",
    ),
    Misconception(
        "treats a ratio exactly at the tolerance as outside it",
        exercise="w14_kube_desired_replicas",
        edits=[("if abs(ratio - 1.0) <= tolerance:", "if abs(ratio - 1.0) < tolerance:")],
        passes_visible=True,
        why="'within 10 %' is read as strictly less",
    ),
    Misconception(
        "applies the tolerance to the metric in percentage points",
        exercise="w14_kube_desired_replicas",
        edits=[("if abs(ratio - 1.0) <= tolerance:", "if abs(metric - target) <= tolerance:")],
        why="0.1 looks like an absolute band around the target",
    ),
    Misconception(
        "clamps to maxReplicas only",
        exercise="w14_kube_desired_replicas",
        edits=[("return max(min_replicas, min(max_replicas, desired))", "return min(max_replicas, desired)")],
        passes_visible=True,
        why="the spike (too many replicas) is the case everybody tests first",
    ),
    # Exercise 5 — simulate the HPA
    Misconception(
        "drops recommendations made exactly window_s ago",
        exercise="w14_kube_simulate_hpa",
        edits=[("if when >= t - window_s)", "if when > t - window_s)")],
        passes_visible=True,
        why="an off-by-one at the window's edge: the controller keeps samples that are not before the cutoff",
    ),
    Misconception(
        "scales up straight to the recommendation, without the rate limit",
        exercise="w14_kube_simulate_hpa",
        edits=[("replicas = min(raw, max(2 * replicas, replicas + 4))", "replicas = raw")],
        passes_visible=True,
        why="the default scale-up policies are easy to overlook in the behavior defaults",
    ),
    Misconception(
        "uses the smaller of the two scale-up policies",
        exercise="w14_kube_simulate_hpa",
        edits=[("max(2 * replicas, replicas + 4)", "min(2 * replicas, replicas + 4)")],
        why="selectPolicy defaults to Max, which is read as 'the most conservative'",
    ),
    Misconception(
        "remembers the applied replicas instead of the raw recommendations",
        exercise="w14_kube_simulate_hpa",
        edits=[("history.append((t, raw))", "history.append((t, replicas))")],
        why="the history of what happened feels more natural than a history of recommendations",
    ),
]
