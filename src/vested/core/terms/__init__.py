"""The term library: every pricing term type, its pricer, and the union the format uses.

Adding a term type means: a record (subclass of ``TermBase`` with a ``type`` literal) and a pure
pricer in a family module, one entry in ``PRICERS`` below, documentation in ``docs/terms.md``
(a test fails without it) and its invariants in ``tests/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field

from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermResult
from vested.core.terms.credits import (
    ServiceCreditPool,
    ServiceCredits,
    price_service_credit_pool,
    price_service_credits,
)
from vested.core.terms.delivery import (
    LateDeliveryPenalty,
    QualityDeduction,
    price_late_delivery_penalty,
    price_quality_deduction,
)
from vested.core.terms.fees import (
    CostPlus,
    FixedFee,
    PerUnit,
    TieredVolume,
    TimeAndMaterials,
    price_cost_plus,
    price_fixed_fee,
    price_per_unit,
    price_tiered_volume,
    price_time_and_materials,
)
from vested.core.terms.incentive import (
    AwardFee,
    CostPlusIncentiveFee,
    FixedPriceIncentive,
    price_award_fee,
    price_cost_plus_incentive_fee,
    price_fixed_price_incentive,
)
from vested.core.terms.installment import InstallmentPlan, price_installment_plan
from vested.core.terms.outcomes import MarginMatching, OutcomeIncentive, price_margin_matching, price_outcome_incentive
from vested.core.terms.sharing import Gainshare, TargetCost, price_gainshare, price_target_cost

Term = Annotated[
    FixedFee
    | PerUnit
    | TieredVolume
    | TimeAndMaterials
    | CostPlus
    | FixedPriceIncentive
    | CostPlusIncentiveFee
    | AwardFee
    | TargetCost
    | Gainshare
    | ServiceCredits
    | ServiceCreditPool
    | OutcomeIncentive
    | MarginMatching
    | LateDeliveryPenalty
    | QualityDeduction
    | InstallmentPlan,
    Field(discriminator="type"),
]
"""Any pricing term; the ``type`` key says which."""

Pricer = Callable[[Any, PricingContext], TermResult]

PRICERS: Mapping[type[TermBase], Pricer] = MappingProxyType({
    FixedFee: price_fixed_fee,
    PerUnit: price_per_unit,
    TieredVolume: price_tiered_volume,
    TimeAndMaterials: price_time_and_materials,
    CostPlus: price_cost_plus,
    FixedPriceIncentive: price_fixed_price_incentive,
    CostPlusIncentiveFee: price_cost_plus_incentive_fee,
    AwardFee: price_award_fee,
    TargetCost: price_target_cost,
    Gainshare: price_gainshare,
    ServiceCredits: price_service_credits,
    ServiceCreditPool: price_service_credit_pool,
    OutcomeIncentive: price_outcome_incentive,
    MarginMatching: price_margin_matching,
    LateDeliveryPenalty: price_late_delivery_penalty,
    QualityDeduction: price_quality_deduction,
    InstallmentPlan: price_installment_plan,
})
"""The pricer of each term type."""



def type_name(cls: type[TermBase]) -> str:
    """The ``type`` key that selects a term class in the format."""
    name: str = cls.__pydantic_fields__["type"].annotation.__args__[0]  # type: ignore[attr-defined]
    return name


TERM_TYPES: Mapping[str, type[TermBase]] = MappingProxyType({type_name(cls): cls for cls in PRICERS})
"""Term classes by their ``type`` name."""

__all__ = ["PRICERS", "TERM_TYPES", "Charge", "PricingContext", "Reference", "Term", "TermBase", "TermResult", "type_name"]
