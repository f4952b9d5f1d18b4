"""School partnerships (结对帮扶, 教育集团, 托管, 片区), their activity log, teacher exchanges and 走教,
and teaching researchers' contact schools and visits.

Modules: models, permissions (every rule), services (partnerships, goals, who is paired), log
(the activity log and its attachments), exchanges, visits; pages in views / log_views /
exchange_views / visit_views, the API in api.
"""
