"""Recommendations: keeps the in-memory engine in step with MongoDB and explains its picks.

``service`` owns the engine's life (builds, swaps, incremental events) and answers requests;
``snapshot`` turns documents into engine input; ``onboarding`` steers listeners with no history
by their chosen genres; ``reasons`` words the engine's evidence for users; ``steering``,
``seeds`` and ``hidden`` shape every personal list; ``radio`` and ``lists`` (journeys, mixes)
generate lists from the engine.
"""

from madhur_gql.recommender.journey import ENDS as JOURNEY_ENDS
from madhur_gql.recommender.journey import REGION as JOURNEY_REGION
from madhur_gql.recommender.mood import Mood
from madhur_gql.recommender.radio import SeedKind, StationSeed
from madhur_gql.recommender.steering import FeatureBounds
from madhur_gql.recommender.values import RecommendationRequest, Source
from madhur_gql.services.recommendations.service import (
    MAX_RECOMMENDATIONS,
    Recommendation,
    RecommendationService,
)

__all__ = [
    "JOURNEY_ENDS",
    "JOURNEY_REGION",
    "MAX_RECOMMENDATIONS",
    "FeatureBounds",
    "Mood",
    "Recommendation",
    "RecommendationRequest",
    "RecommendationService",
    "SeedKind",
    "Source",
    "StationSeed",
]
