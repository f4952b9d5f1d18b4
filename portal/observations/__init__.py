"""Lesson observations (听课评课): records scored with versioned rubric templates, drafts saved as
you type, finalising and audited amendments, feedback from the observed teacher and action steps.

Modules: models, rubrics (templates and scoring), permissions (who may read and change),
services, forms, views (pages, blueprint ``observations``), api (POST /api/v1/observations).
The quota engine (quota.py and its pages) builds on these records.
"""
