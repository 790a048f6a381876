"""What drift over the prediction log compares: a model's reference data and its current inputs.

The reference is the stored, seeded sample of the dataset logged with the
version's run in role ``training``; current data is the logged inputs of the
predictions that model version answered (or a CSV batch). Both are cut to the
model's signature inputs, so the target and columns the model never saw are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..storage.project import Project

LOG_DATASET = "log one with md.log_dataset(df, role='training') in the run that trained the model"


@dataclass(frozen=True)
class Monitored:
    """The model version a URI resolves to now, and its reference dataset."""

    uri: str                    # as asked (full form)
    run_id: str
    artifact: str
    sha256: str                 # the model's bytes: a new version is a new identity
    inputs: tuple[str, ...]     # the signature's input columns (empty: the model logged no signature)
    reference: str              # the training dataset's fingerprint
    reference_name: str
    target: str | None

    @property
    def log_uri(self) -> str:
        """The URI whose prediction log holds what this very model answered."""
        return f"runs:/{self.run_id}/{self.artifact}"


def full_uri(uri: str) -> str:
    """``name@alias`` and ``name/3`` in their ``models:/`` form (malformed: a ``UsageError``)."""
    from ..tracking.artifacts import parse_model_uri

    parse_model_uri(uri)
    return uri if uri.startswith(("runs:/", "models:/")) else f"models:/{uri}"


def monitored(project: Project, uri: str) -> Monitored:
    """Resolve ``uri`` and find its training dataset; an unknown model or no such dataset is a ``UsageError``."""
    from ..registry.uris import resolve_model
    from ..tracking.artifacts import list_datasets

    uri = full_uri(uri)
    logged = resolve_model(project, uri)     # NotFoundError (a UsageError) names what is unknown
    training = [d for d in list_datasets(project, logged.run_id) if d.role == "training"]
    if not training:
        raise UsageError(f"{uri} has no reference data: its run {logged.run_id[:8]} logged no training dataset; "
                         f"{LOG_DATASET}.")
    dataset = training[0]   # list_datasets orders by role, then name: the first training dataset by name
    inputs = tuple(str(f["name"]) for f in (logged.signature or {}).get("inputs") or ())
    return Monitored(uri, logged.run_id, logged.name, logged.sha256, inputs, dataset.fingerprint, dataset.name,
                     dataset.target)


def reference_frame(project: Project, m: Monitored):
    """The training sample, cut to the model's inputs (all columns but the target when it has no signature)."""
    from ..tracking.artifacts import load_dataset_sample

    sample = load_dataset_sample(project, m.reference)
    sample.columns = [str(c) for c in sample.columns]
    if m.inputs:
        keep = [c for c in m.inputs if c in sample.columns]
    else:
        keep = [c for c in sample.columns if c != m.target]
    if not keep:
        raise UsageError(f"The training dataset {m.reference_name!r} of {m.uri} has none of the model's input "
                         f"columns ({', '.join(m.inputs[:5])}); {LOG_DATASET}.")
    return sample[keep]


def input_columns(m: Monitored, reference) -> list[str]:
    """The columns compared: the signature's inputs, or the reference's columns without a signature."""
    return list(m.inputs) if m.inputs else [str(c) for c in reference.columns]


def current_from_log(frame, columns: list[str]):
    """The logged inputs of a ``get_predictions`` frame, by the model's column names.

    ``get_predictions`` prefixes an input named like one of its own columns
    (``time``, ``label``...) with ``input.``; this undoes it.
    """
    import pandas as pd

    picked = {}
    for name in columns:
        if f"input.{name}" in frame.columns:
            picked[name] = frame[f"input.{name}"]
        elif name in frame.columns:
            picked[name] = frame[name]
    return pd.DataFrame(picked, index=frame.index)


def current_from_csv(path, columns: list[str]):
    """A CSV batch cut to the model's columns; a missing file or missing columns is a ``UsageError``."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise UsageError(f"No such file: {path}.") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path} is not a readable CSV file: {exc}") from None
    frame.columns = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise UsageError(f"{path} lacks {len(missing)} of the model's {len(columns)} input columns: {shown}.")
    if len(frame) == 0:
        raise UsageError(f"{path} has no rows: there is nothing to compare.")
    return frame[columns]
