"""Dual-teacher classroom scheduling (双师课堂 / 专递课堂): weekly classes across schools, their
sessions following the school calendar (holidays, 调休), and clashes of teachers and rooms.

Modules: models, recurrence (which dates), conflicts (who or which room is booked twice),
permissions, services, api.
"""
