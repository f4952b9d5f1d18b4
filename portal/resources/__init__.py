"""The shared lesson resource library (优质资源共享).

Modules: models, permissions (``visible_resources``: the one visibility rule), services
(share, versions, downloads), search (Chinese substring search, SQLite FTS5 trigram or
PostgreSQL pg_trgm), social (ratings, comments, "used in my class", school flows); pages in
views / social_views, the API in api.
"""
