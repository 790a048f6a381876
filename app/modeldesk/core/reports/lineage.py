"""A version report's identity, lineage and comparison sections."""

from __future__ import annotations

from ..registry.entities import PRODUCTION, AliasMove, ModelVersion
from ..text import fmt_size
from ..tracking.artifacts import get_environment, list_datasets
from ..tracking.run_entities import LoggedModel, Run
from .content import Facts, NotAvailable, Section, Table, Text, num, signed, version_label, when

MAX_PACKAGES = 400


def identity_section(v: ModelVersion | None, logged: LoggedModel, uri: str) -> Section:
    """Name, version, aliases, sha256, created by/at (a runs:/ model: what the run logged)."""
    if v is None:
        pairs = (("Model URI", uri), ("Registered", "no — a run's logged model, never registered"),
                 ("Logged model", f"runs:/{logged.run_id}/{logged.name}"), ("sha256", logged.sha256),
                 ("Size", fmt_size(logged.size)), ("Flavor", logged.flavor), ("Logged at", when(logged.created_at)))
        return Section("identity", "Identity", (Facts(pairs), NotAvailable(
            "this model was never registered, so it has no version number, aliases, gates or approvals",
            "Registering it as a model version would fill these sections.")))
    pairs = (("Model", v.name), ("Version", str(v.version)), ("Model URI", v.uri),
             ("Aliases", ", ".join(v.aliases) or "none"), ("Status", v.status), ("sha256", v.sha256),
             ("Size", fmt_size(v.size)), ("Flavor", v.flavor), ("Registered by", v.created_by),
             ("Registered at", when(v.created_at)), ("Registered from", v.source))
    return Section("identity", "Identity", (Facts(pairs),))


def lineage_section(project, run: Run | None, logged: LoggedModel) -> Section:
    """Run, experiment, params, metrics, datasets (fingerprints, rows), environment (packages, git)."""
    if run is None:
        return Section("lineage", "Lineage", (NotAvailable(
            f"the run {logged.run_id} that logged this model is not in the project",
            "The training run's params, metrics and data would appear here."),))
    blocks: list = [Facts((("Run", f"{run.name} ({run.id})"), ("Experiment", run.experiment),
                           ("Status", run.status), ("User", run.user), ("Started", when(run.start_time)),
                           ("Ended", when(run.end_time))), "Run")]
    blocks.append(Table(("param", "value"), tuple((k, str(run.params[k])) for k in sorted(run.params)), "Params")
                  if run.params else NotAvailable("the run logged no params", "md.log_params() in the training "
                                                  "script would list them here."))
    blocks.append(Table(("metric", "value"), tuple((k, num(run.metrics[k])) for k in sorted(run.metrics)),
                        "Metrics (latest values)")
                  if run.metrics else NotAvailable("the run logged no metrics", "md.log_metric() in the training "
                                                   "script would list them here."))
    datasets = list_datasets(project, run.id)
    blocks.append(Table(("name", "role", "fingerprint", "rows", "columns", "target"),
                        tuple((d.name, d.role, d.fingerprint, num(d.rows), num(d.columns), d.target or "—")
                              for d in datasets), "Datasets")
                  if datasets else NotAvailable("the run logged no dataset", "md.log_dataset(df, role='training') "
                                                "would record its fingerprint and row count here."))
    env = get_environment(project, logged.environment_sha256)
    if env is None:
        blocks.append(NotAvailable("no environment was recorded with this model",
                                   "Logging the model with md.log_model() records Python, platform, packages "
                                   "and the git commit."))
    else:
        git = env.get("git") or {}
        commit = git.get("commit") or "not in a git repository"
        dirty = {True: "yes (uncommitted changes to tracked files)", False: "no"}.get(git.get("dirty"), "—")
        blocks.append(Facts((("Python", f"{env.get('python', '—')} ({env.get('implementation', '')})"),
                             ("Platform", str(env.get("platform", "—"))), ("Git commit", commit),
                             ("Git branch", str(git.get("branch") or "—")), ("Dirty", dirty),
                             ("Environment sha256", logged.environment_sha256 or "—")), "Environment"))
        packages = env.get("packages") or {}
        names = sorted(packages)[:MAX_PACKAGES]
        blocks.append(Table(("package", "version"), tuple((n, str(packages[n])) for n in names), "Packages",
                            f"{len(packages) - len(names)} more not listed." if len(packages) > len(names) else ""))
    return Section("lineage", "Lineage", tuple(blocks))


def replaced_version(v: ModelVersion, moves: list[AliasMove], versions: list[ModelVersion]) -> tuple[int | None, str]:
    """The version ``v`` replaced, and how that was decided.

    The one production held when ``v`` was first promoted; if ``v`` never was, today's production
    (what it would replace); else the version registered just before it.
    """
    for m in moves:
        if m.alias == PRODUCTION and m.to_version == v.version and m.kind == "promote":
            if m.from_version is None:
                return None, f"v{v.version} was the first production version: it replaced none."
            return m.from_version, f"v{m.from_version} held production when v{v.version} was promoted."
    production = next((x.version for x in versions if PRODUCTION in x.aliases), None)
    if production is not None and production != v.version:
        return production, f"v{v.version} was never promoted; compared with production (v{production})."
    earlier = [x.version for x in versions if x.version < v.version]
    if earlier:
        return earlier[-1], f"compared with v{earlier[-1]}, the version registered before it."
    return None, f"v{v.version} is the first version of {v.name}: there is nothing it replaced."


def _inputs(signature: dict) -> dict[str, str]:
    return {str(f["name"]): str(f.get("type")) for f in (signature or {}).get("inputs") or ()}


def signature_changes(old: dict, new: dict) -> list[tuple[str, str, str]]:
    a, b = _inputs(old), _inputs(new)
    out = [(c, a[c], "— (dropped)") for c in a if c not in b]
    out += [(c, "— (new)", b[c]) for c in b if c not in a]
    out += [(c, a[c], b[c]) for c in b if c in a and a[c] != b[c]]
    for key in ("outputs", "classes"):
        if (old or {}).get(key) != (new or {}).get(key):
            out.append((f"[{key}]", str((old or {}).get(key)), str((new or {}).get(key))))
    return out


def comparison_section(v: ModelVersion | None, base: ModelVersion | None, why: str, run: Run | None,
                       base_run: Run | None) -> Section:
    """Metric deltas, param changes and signature changes against the replaced version."""
    title = "Comparison with the version it replaced"
    if v is None:
        return Section("comparison", title, (NotAvailable(
            "an unregistered model replaced no version", "Registering it would compare it with production."),))
    if base is None:
        return Section("comparison", title, (NotAvailable(why.rstrip("."), "A later version would be "
                                                          "compared with this one."),))
    blocks: list = [Facts((("Compared with", f"{base.name} {version_label(base.version)} ({base.sha256[:16]}…)"),
                           ("Why that version", why)))]
    if run is not None and base_run is not None:
        keys = sorted(set(run.metrics) | set(base_run.metrics))
        rows = []
        for k in keys:
            old, new = base_run.metrics.get(k), run.metrics.get(k)
            delta = new - old if old is not None and new is not None else None
            rows.append((k, num(old), num(new), signed(delta)))
        blocks.append(Table(("metric", f"v{base.version}", f"v{v.version}", "change"), tuple(rows), "Metrics")
                      if rows else NotAvailable("neither run logged a metric", "Logged metrics would be compared."))
        changed = [(k, base_run.params.get(k, "—"), run.params.get(k, "—"))
                   for k in sorted(set(run.params) | set(base_run.params))
                   if base_run.params.get(k) != run.params.get(k)]
        blocks.append(Table(("param", f"v{base.version}", f"v{v.version}"), tuple(changed), "Param changes")
                      if changed else Text("No param differs between the two runs."))
    else:
        blocks.append(NotAvailable("a run of the two versions is missing", "Both runs would be compared."))
    sig = signature_changes(base.signature, v.signature)
    blocks.append(Table(("column", f"v{base.version}", f"v{v.version}"), tuple(sig), "Signature changes")
                  if sig else Text("The input signature did not change."))
    return Section("comparison", title, tuple(blocks))
