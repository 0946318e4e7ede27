"""Triage: the playbook's rules and matrix turn a request into a category, impact, urgency and priority.

Precedence, highest first: a priority a person chose explicitly; impact/urgency a person chose (through
the matrix); the first matching rule; the playbook's defaults. The decision records what made it, so a
council can ask "why is this P3?" and get an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from desk.domain.playbook import LEVELS, Playbook


@dataclass(frozen=True)
class TriageDecision:
    category: str
    impact: str
    urgency: str
    priority: str
    rule: str | None  # the rule that matched, if any
    decided_by: str  # "rule", "default", "person" (impact/urgency chosen), "explicit" (priority chosen)

    def explain(self) -> str:
        match self.decided_by:
            case "explicit":
                return f"{self.priority} chosen by a person"
            case "person":
                return f"{self.priority} from impact {self.impact} × urgency {self.urgency} chosen by a person"
            case "rule":
                return f"{self.priority} by rule {self.rule} (impact {self.impact} × urgency {self.urgency})"
            case _:
                return f"{self.priority} by the playbook's defaults (no rule matched)"


def triage(
    playbook: Playbook,
    title: str,
    description: str = "",
    *,
    category: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    priority: str | None = None,
) -> TriageDecision:
    if priority is not None and priority not in playbook.priorities:
        known = ", ".join(playbook.priorities)
        raise ValueError(f"unknown priority {priority!r} (known: {known})")
    for name, level in (("impact", impact), ("urgency", urgency)):
        if level is not None and level not in LEVELS:
            raise ValueError(f"{name} {level!r} is not one of {', '.join(LEVELS)}")
    text = f"{title}\n{description}"
    rule = next((r for r in playbook.rules if r.match.search(text)), None)
    defaults = playbook.defaults
    chosen_category = category or (rule.category if rule and rule.category else None) or defaults.category
    rule_impact = rule.impact if rule and rule.impact else None
    rule_urgency = rule.urgency if rule and rule.urgency else None
    final_impact = impact or rule_impact or defaults.impact
    final_urgency = urgency or rule_urgency or defaults.urgency
    matrix_priority = playbook.matrix[final_impact][final_urgency]
    if priority is not None:
        decided_by = "explicit"
    elif impact or urgency:
        decided_by = "person"
    elif rule is not None:
        decided_by = "rule"
    else:
        decided_by = "default"
    return TriageDecision(
        category=chosen_category,
        impact=final_impact,
        urgency=final_urgency,
        priority=priority or matrix_priority,
        rule=rule.name if rule else None,
        decided_by=decided_by,
    )
