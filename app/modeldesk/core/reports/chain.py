"""The audit part of a report: the chain's status and head, and the log's entries for a model."""

from __future__ import annotations

from ..audit import check_seen_head, list_entries, verify
from ..registry.ledger import mismatches, replay
from ..registry.summaries import details_summary
from ..storage.project import Project
from .content import ChainStatus, Facts, NotAvailable, Section, Table, Text

MAX_ENTRIES = 500     # the newest entries of a model a report lists; older ones are counted


def chain_status(project: Project) -> ChainStatus:
    """Verify the whole chain (not only a model's entries) and say so in a report's words.

    As ``audit verify`` does, the chain must also still hold the highest entry this machine saw
    (a cut log, an older copy, a rewrite with recomputed hashes), and the registry is compared with
    what the log says (core.registry.ledger), so an alias moved with sqlite3 shows up even though
    the chain itself holds.
    """
    result = verify(project)
    head = project.conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    cut = check_seen_head(project) if result.ok else None
    if cut is not None:
        return ChainStatus(False, f"chain not verified: {cut}", cut, result.entries, head[0] if head else None,
                           head[1] if head else None, "", result.warnings)
    if result.ok:
        status = "chain verified"
    elif result.bad_seq is not None:
        status = f"chain broken at entry {result.bad_seq}"
    else:
        status = f"chain not verified: {result.message}"
    registry = ""
    if result.ok:
        wrong = mismatches(project, replay(list_entries(project)))
        registry = ("The registry matches the log." if not wrong else
                    f"The registry does not match the log: {wrong[0]}"
                    + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else "") + ".")
    return ChainStatus(result.ok, status, result.message, result.entries, head[0] if head else None,
                       head[1] if head else None, registry, result.warnings)


def chain_facts(chain: ChainStatus) -> Facts:
    pairs = [("Chain", chain.status), ("Verifier", chain.message),
             ("Head (SEQ:HASH)", chain.head)]
    if chain.registry:
        pairs.append(("Registry against the log", chain.registry))
    pairs += [("Warning", w) for w in chain.warnings]
    return Facts(tuple(pairs))


def head_note() -> Text:
    return Text("The head hash pins the whole log up to that entry: anyone can later run "
                "`modeldesk audit verify --expect-head SEQ:HASH` on the project to check that no entry up to it "
                "was changed since this report. It proves nothing about entries written after it.")


def audit_section(project: Project, chain: ChainStatus, model: str | None) -> Section:
    """The chain status, then the log's entries about ``model`` (all of it for ``None``: none listed)."""
    blocks: list = [Text(chain.status.capitalize() + ".", "ok" if chain.ok else "bad"), chain_facts(chain),
                    head_note()]
    if model is not None:
        entries = list_entries(project, model=model)
        if not entries:
            blocks.append(NotAvailable(f"the audit log has no entry about {model}",
                                       "Registering, requesting, approving or moving an alias of it would add "
                                       "entries here."))
        else:
            shown = entries[-MAX_ENTRIES:]
            rows = tuple((str(e.seq), e.time[:19].replace("T", " "), e.actor, e.action,
                          "" if e.version is None else f"v{e.version}", details_summary(e.details, 80),
                          e.hash[:16]) for e in shown)
            note = (f"The {len(entries) - len(shown)} older entries about {model} are not listed; "
                    "`modeldesk audit list --model` shows them." if len(entries) > len(shown) else "")
            blocks.append(Table(("#", "time (UTC)", "actor", "action", "version", "details", "hash"), rows,
                                f"Audit-log entries about {model}", note))
    return Section("audit", "Audit log", tuple(blocks))
