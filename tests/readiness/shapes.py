"""Small maps the readiness tests build on: two stages of buying, marketing and legal, a pricing page
with two questions and a contract with one (each test file adds what it needs)."""

from __future__ import annotations

from touchpoint.readiness.structure import FunctionShape, QuestionShape, StageShape, TouchpointShape

MARKETING, LEGAL = FunctionShape("marketing", "Marketing"), FunctionShape("legal", "Legal")
BUY = StageShape("buy", "Able to buy it")
USE = StageShape("use", "Use it")

PRICING_PAGE = TouchpointShape(
    key="pricing-page",
    stage="buy",
    function="marketing",
    name="Pricing page",
    checklist=(QuestionShape("Every plan shown?"), QuestionShape("Prices in every currency?")),
)
CONTRACT = TouchpointShape(
    key="contract",
    stage="buy",
    function="legal",
    name="Contract",
    checklist=(QuestionShape("Terms reviewed?"),),
)
STATUS_PAGE = TouchpointShape(key="status-page", stage="use", function="legal", name="Status page")
