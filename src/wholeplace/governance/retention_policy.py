"""Where a retention policy (dataset → months to keep) comes from: a YAML file or the agreements."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import yaml
from sqlalchemy import select

from wholeplace.errors import InputError, Problem
from wholeplace.governance.agreements import AgreementStatus
from wholeplace.store.operational import DatasetRow, SegmentRow
from wholeplace.store.stores import Stores

# Data shared under a draft or terminated agreement is not kept on its account.
_HOLDING = (AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED)


def read_policy(path: Path) -> dict[str, int]:
    """A YAML mapping of dataset code to whole months to keep, every problem named with its line."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError([Problem(str(path), f"cannot read the policy file: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        line = exc.problem_mark.line + 1 if getattr(exc, "problem_mark", None) else None  # type: ignore[attr-defined]
        raise InputError([Problem(str(path), "is not valid YAML", line=line)]) from None
    if not isinstance(node, yaml.MappingNode):
        raise InputError([Problem(str(path), "must be a mapping of dataset code to months, e.g. `my-dataset: 36`")])
    policy: dict[str, int] = {}
    problems: list[Problem] = []
    for key, value in node.value:
        months = value.value if isinstance(value, yaml.ScalarNode) else ""
        if not str(months).isdigit() or int(months) < 1:
            problems.append(Problem(str(path), f"'{key.value}' must keep a whole number of months, at least 1",
                                    line=value.start_mark.line + 1))
        elif key.value in policy:
            problems.append(Problem(str(path), f"'{key.value}' is given twice", line=key.start_mark.line + 1))
        else:
            policy[str(key.value)] = int(months)
    if problems:
        raise InputError(problems, hint="Nothing was deleted. Fix the lines named above and run it again.")
    return policy


def policy_from_agreements(*, stores: Stores) -> dict[str, int]:
    """Months to keep each stored dataset: the longest any active or suspended agreement covering it allows.

    Agreements name datasets by code or glob pattern. A dataset no such agreement covers gets
    no policy and is left alone (``retention run`` lists those, so that the gap is seen).
    """
    from wholeplace.governance.registry import list_agreements  # the registry is only needed here

    terms = [(t.dataset, t.retention_months) for stored in list_agreements(stores=stores)
             if stored.agreement.status in _HOLDING for t in stored.agreement.datasets]
    policy: dict[str, int] = {}
    for dataset in stored_datasets(stores=stores):
        months = [m for pattern, m in terms if fnmatchcase(dataset, pattern)]
        if months:
            policy[dataset] = max(months)
    return policy


def stored_datasets(*, stores: Stores) -> list[str]:
    with stores.sessions() as session:
        declared = session.scalars(select(DatasetRow.code)).all()
        stored = session.scalars(select(SegmentRow.dataset).where(SegmentRow.active).distinct()).all()
    return sorted(set(declared) | set(stored))
