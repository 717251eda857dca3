"""Fault injection shared by the sandboxes.

A plan is a set of named faults, each armed for a number of occurrences or with a
probability. Servers ask ``plan.take("name")`` at the point where the fault would happen;
the seeded RNG keeps chaos runs reproducible. Spec strings look like
``"429:5,reset:0.1,commit_drop:2"`` (an integer is a count, a fraction a probability).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class _Arm:
    count: int | None = None
    probability: float | None = None


@dataclass
class FaultPlan:
    seed: int = 0
    _arms: dict[str, _Arm] = field(default_factory=dict)
    fired: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, spec: str | None, *, seed: int = 0) -> FaultPlan:
        plan = cls(seed=seed)
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            name, _, value = part.partition(":")
            value = value or "1"
            if "." in value:
                plan.arm(name.strip(), probability=float(value))
            else:
                plan.arm(name.strip(), count=int(value))
        return plan

    def arm(self, name: str, *, count: int | None = None, probability: float | None = None) -> None:
        if (count is None) == (probability is None):
            raise ValueError("arm a fault with either a count or a probability")
        with self._lock:
            self._arms[name] = _Arm(count=count, probability=probability)

    def disarm(self, name: str) -> None:
        with self._lock:
            self._arms.pop(name, None)

    def take(self, name: str) -> bool:
        """Whether the named fault fires now (and consume one occurrence if counted)."""
        with self._lock:
            arm = self._arms.get(name)
            if arm is None:
                return False
            if arm.count is not None:
                if arm.count <= 0:
                    return False
                arm.count -= 1
                fire = True
            else:
                fire = self._rng.random() < (arm.probability or 0.0)
            if fire:
                self.fired[name] += 1
            return fire

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._arms)

    def armed(self) -> dict[str, str]:
        with self._lock:
            return {
                k: (str(a.count) if a.count is not None else f"p={a.probability}")
                for k, a in self._arms.items()
            }


# What each sandbox can inject (the names its servers ask ``take()`` for). A spec naming any
# other fault is refused: a typo must not run a "chaos" test that injects nothing.
SPAPI_FAULTS = frozenset(
    {
        "429", "500", "503", "reset", "slow",  # every SP-API operation and LWA
        "expire_token", "dup_listing", "expire_url", "truncate_gzip",  # Reports
        "v0_gone",  # Finances
    }
)  # fmt: skip
WORKDAY_FAULTS = frozenset({"429", "500", "503", "reset", "slow", "commit_drop"})
DELTEK_FAULTS = frozenset({"429", "500", "html502", "reset", "slow", "commit_drop", "expire_token"})
KNOWN_FAULTS = {"spapi": SPAPI_FAULTS, "workday": WORKDAY_FAULTS, "deltek": DELTEK_FAULTS}


def check_fault_names(plan: FaultPlan) -> None:
    """Refuse a plan naming a fault no sandbox injects; the message says what exists."""
    for name in plan.names():
        system, dot, fault = name.partition(".")
        if not dot:
            system, fault = "spapi", name
        known = KNOWN_FAULTS.get(system)
        if known is None:
            raise ValueError(
                f"unknown sandbox {system!r} in fault {name!r}: use a fault of the SP-API "
                f"sandbox unprefixed, or prefix it with workday. or deltek."
            )
        if fault not in known:
            prefix = "" if system == "spapi" else f"{system}."
            raise ValueError(
                f"unknown fault {name!r}: the {system} sandbox injects "
                + ", ".join(prefix + f for f in sorted(known))
            )
