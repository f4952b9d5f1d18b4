"""名师+ (famous-teacher) and 名校长+ (famous-principal) communities.

Modules: models, permissions (every rule), services (communities and members), activities
(研修活动, attendance), hours (the 学时 ledger), discussions, projects (课题); pages in
views / activity_views / discussion_views / project_views / hours_views, the API in api.
"""
