"""Recommendations: keeps the in-memory engine in step with MongoDB and explains its picks.

``service`` owns the engine's life (builds, swaps, incremental events) and answers requests;
``snapshot`` turns documents into engine input; ``onboarding`` steers listeners with no history
by their chosen genres; ``reasons`` words the engine's evidence for users.
"""

from madhur_gql.recommender.values import RecommendationRequest
from madhur_gql.services.recommendations.service import (
    MAX_RECOMMENDATIONS,
    Recommendation,
    RecommendationService,
)

__all__ = [
    "MAX_RECOMMENDATIONS",
    "Recommendation",
    "RecommendationRequest",
    "RecommendationService",
]
