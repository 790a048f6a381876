"""What the Monitoring view asks of core besides the drift windows: models to pick, a window's data,
a CSV batch, and the value a metric had when the model was trained."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..storage.project import Project
from . import reference as ref_mod


@dataclass(frozen=True)
class ModelChoice:
    """A registered model as the picker lists it: its versions and aliases."""

    name: str
    versions: tuple[int, ...]           # newest first
    aliases: dict[str, int]


def model_choices(project: Project) -> list[ModelChoice]:
    """Every registered model, by name, with its versions (newest first) and aliases."""
    from ..registry.versions import list_models, list_versions

    return [ModelChoice(m.name, tuple(sorted((v.version for v in list_versions(project, m.name)), reverse=True)),
                        dict(m.aliases)) for m in sorted(list_models(project), key=lambda m: m.name.lower())]


@dataclass(frozen=True)
class Sample:
    """Reference and current inputs of one comparison, cut to the model's input columns."""

    reference: object                   # pandas DataFrame
    current: object                     # pandas DataFrame
    source: str                         # "log" or the CSV path


def window_sample(project: Project, uri: str, since, until) -> Sample:
    """The reference and the logged inputs of ``uri``'s version in ``[since, until)``."""
    from ..serving.prediction_log import get_predictions

    m = ref_mod.monitored(project, uri)
    reference = ref_mod.reference_frame(project, m)
    columns = ref_mod.input_columns(m, reference)
    frame = get_predictions(project, m.log_uri, since=since, until=until, outputs=False)
    return Sample(reference, ref_mod.current_from_log(frame, columns), "log")


@dataclass(frozen=True)
class CsvComparison:
    """A CSV batch tested against the reference: the report and the data behind it."""

    path: str
    report: object                      # DriftReport
    sample: Sample


def compare_csv(project: Project, uri: str, path: str, *, progress=None, should_stop=None) -> CsvComparison | None:
    """Test the CSV at ``path`` against ``uri``'s reference (a ``UsageError`` names what is wrong with it)."""
    from .windows import drift_for

    m = ref_mod.monitored(project, uri)
    reference = ref_mod.reference_frame(project, m)
    current = ref_mod.current_from_csv(path, ref_mod.input_columns(m, reference))
    report = drift_for(project, uri, current=current, progress=progress, should_stop=should_stop)
    if report is None:
        return None
    return CsvComparison(str(path), report, Sample(reference, current, str(path)))


def trained_value(project: Project, uri: str, metric: str) -> float:
    """The value of ``metric`` the version's run logged (its validation figure), NaN when it logged none."""
    from ..registry.uris import resolve_model
    from ..tracking.runs import get_run

    logged = resolve_model(project, ref_mod.full_uri(uri))
    value = get_run(project, logged.run_id).metrics.get(metric)
    return float(value) if value is not None and math.isfinite(float(value)) else math.nan
