"""Madhur recommender: item-CF, audio-content similarity, moods and offline evaluation.

Pure numpy/scipy; no database or GraphQL imports. Import submodules directly, e.g.
``from madhur_gql.recommender.engine import RecommenderEngine``.
"""
