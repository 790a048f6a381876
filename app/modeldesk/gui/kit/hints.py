"""The desktop app's words for a core hint: a sentence about a button, never a shell command."""

from __future__ import annotations

from ...core.errors import Hint


def hint_sentence(hint: Hint | None) -> str:
    """What to do next, in the app's terms (empty when there is no hint)."""
    if hint is None:
        return ""
    what = f"{hint.model} v{hint.version}" if hint.model and hint.version is not None else "it"
    return {
        "init": "Create a project with File ▸ New Project…, or open a .mdesk file.",
        "register": "Register one from a run's context menu in the Experiments view (Register Model…).",
        "request": f"Ask for the promotion of {what} with Request Promotion… in the Models view.",
        "approve": "Ask a teammate to approve it in the Models view.",
        "withdraw": "To take it back, use Withdraw… in the Models view.",
        "reject": "A reviewer can reject it with Reject… in the Models view.",
        "override": (f"An approver can override the {hint.gate or 'failed'} gate with Override Gate… "
                     "in the Models view."),
        "set_primary_metric": "Ask the team to set a primary metric in the registry settings.",
        "list_runs": "Find the run in the Experiments view.",
        "score_file": "Score a whole file with Score a CSV… in the Serving view.",
    }[hint.action]


def with_hint(text: str, hint: Hint | None = None) -> str:
    """``text`` (a core message or reason) followed by its hint in the app's words."""
    hint = hint if hint is not None else getattr(text, "hint", None)
    sentence = hint_sentence(hint)
    return f"{text} {sentence}" if sentence else str(text)
