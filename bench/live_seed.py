"""A live co-teaching session running now, for the Socket.IO load script and the integration tests
that drive a real server: one main teacher, N receiving classrooms each with its assistant, an
observer (the county bureau), an outsider (a teacher of another county), a resource, and an API
token for each of them.

    python -m bench.live_seed --classrooms 3        # DATABASE_URL names the database

Creates the tables when they are missing (like the tests, not the migrations) and prints one
JSON object: {"session_id", "resource_id", "teacher": PERSON, "assistants": [PERSON + "classroom_id"],
"observer": PERSON, "outsider": PERSON} with PERSON = {"user_id", "username", "token"}.
Every seeded account has the password PASSWORD.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from werkzeug.security import generate_password_hash

PASSWORD = "Live-pass-2026"  # noqa: S105 (the seeded accounts' password, printed in the docs)


def seed(classrooms: int, prefix: str = "live") -> dict:
    from portal.accounts.models import User
    from portal.accounts.services import issue_token
    from portal.core.models import utcnow
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.org.models import Classroom, County, School
    from portal.resources.models import Resource
    from portal.resources.search import search_text_of
    from portal.scheduling.models import LiveClass, LiveSession, ReceivingClassroom

    db.create_all()
    password = generate_password_hash(PASSWORD)
    county, other = County(name=f"{prefix}县"), County(name=f"{prefix}外县")
    db.session.add_all([county, other])
    city = School(name=f"{prefix}实验小学", kind="urban", stage="primary", county=county, student_count=1200)
    db.session.add(city)

    def person(role, username, name, school=None, county_=None):
        user = User(username=username, name=name, password_hash=password, role=role, school=school,
                    county_id=(school.county.id if school is not None else county_.id), locale="en")
        db.session.add(user)
        db.session.flush()
        return user

    db.session.flush()
    teacher = person("teacher", f"{prefix}.teacher", "王老师", city)
    main_room = Classroom(school=city, grade=4, name="四(1)班")
    db.session.add(main_room)
    assistants = []
    for i in range(classrooms):
        school = School(name=f"{prefix}村小{i + 1}", kind="village", stage="primary", county=county, student_count=60)
        room = Classroom(school=school, grade=4, name="四年级")
        db.session.add_all([school, room])
        db.session.flush()
        assistants.append((person("teacher", f"{prefix}.assistant{i + 1}", f"助教{i + 1}", school), room))
    bureau = person("bureau", f"{prefix}.bureau", "教育局", county_=county)
    outside_school = School(name=f"{prefix}外县小学", kind="urban", stage="primary", county=other, student_count=500)
    db.session.add(outside_school)
    db.session.flush()
    outsider = person("teacher", f"{prefix}.outsider", "外校老师", outside_school)

    today = local_today()
    live_class = LiveClass(subject="math", grade=4, title="分数的初步认识", main_teacher_id=teacher.id,
                           main_classroom=main_room, first_date=today, last_date=today + timedelta(days=60))
    live_class.receiving = [ReceivingClassroom(classroom=room, assistant_id=user.id) for user, room in assistants]
    db.session.add(live_class)
    now = utcnow()
    session = LiveSession(live_class=live_class, starts_at=now - timedelta(minutes=2),
                          ends_at=now + timedelta(minutes=43), occurrence_date=today)
    db.session.add(session)
    title = "分数的初步认识 课件"
    resource = Resource(title=title, description="", tags="", search_text=search_text_of(title, "", ""),
                        kind="courseware", subject="math", stage="primary", visibility="public",
                        owner_id=teacher.id, school_id=city.id, county_id=county.id)
    db.session.add(resource)
    db.session.flush()

    def card(user):
        return {"user_id": user.id, "username": user.username, "token": issue_token(user, "live")}

    result = {
        "session_id": session.id,
        "resource_id": resource.id,
        "teacher": card(teacher),
        "assistants": [card(user) | {"classroom_id": room.id} for user, room in assistants],
        "observer": card(bureau),
        "outsider": card(outsider),
    }
    db.session.commit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classrooms", type=int, default=3)
    parser.add_argument("--prefix", default="live")
    args = parser.parse_args()
    from portal import create_app

    app = create_app()
    with app.app_context():
        print(json.dumps(seed(args.classrooms, args.prefix)))


if __name__ == "__main__":
    main()
