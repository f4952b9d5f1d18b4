"""Factories for communities: members, activities, threads, replies and projects."""

from __future__ import annotations


class CommunityFactories:
    """Communities, members, activities, threads and projects (mixed into Factories)."""

    def community(self, kind: str = "teacher", leader=None, county=None, **kwargs):
        from portal.communities.models import Community, Membership

        level = kwargs.pop("level", "county" if county is not None or leader is not None else "city")
        if county is None and level == "county":
            county = leader.school.county if leader is not None and leader.school else self.county()
        community = Community(
            kind=kind,
            level=level,
            county=county if level == "county" else None,
            name=kwargs.pop("name", f"测试共同体{self._n()}"),
            subject=kwargs.pop("subject", "math" if kind == "teacher" else None),
            stage=kwargs.pop("stage", "primary" if kind == "teacher" else None),
            description_html=kwargs.pop("description_html", "<p>简介</p>"),
            **kwargs,
        )
        self.db.session.add(community)
        self.db.session.flush()
        if leader is not None:
            community.leader_id = leader.id
            self.db.session.add(Membership(community=community, user=leader, role="leader", status="active"))
            community.member_count = 1
        self.db.session.commit()
        return community

    def member(self, community, user=None, role: str = "member", status: str = "active", **kwargs):
        from portal.communities.models import Membership
        from portal.core.models import utcnow

        if user is None:
            user = self.user(kwargs.pop("user_role", "teacher" if community.kind == "teacher" else "principal"),
                             county=community.county, **kwargs)
        membership = Membership(community=community, user=user, role=role, status=status,
                                joined_at=utcnow() if status == "active" else None)
        self.db.session.add(membership)
        if status == "active":
            community.member_count += 1
        self.db.session.commit()
        return membership

    def activity(self, community, host=None, starts_at=None, hours_tenths: int = 20, **kwargs):
        from datetime import timedelta

        from portal.communities.models import Activity
        from portal.core.models import utcnow

        starts_at = starts_at or utcnow().replace(microsecond=0) + timedelta(days=3)
        activity = Activity(
            community=community,
            title=kwargs.pop("title", f"研修活动{self._n()}"),
            kind=kwargs.pop("kind", "seminar"),
            starts_at=starts_at,
            ends_at=kwargs.pop("ends_at", starts_at + timedelta(hours=2)),
            host_id=(host or community.leader).id,
            hours_tenths=hours_tenths,
            place=kwargs.pop("place", "会议室"),
            **kwargs,
        )
        self.db.session.add(activity)
        self.db.session.commit()
        return activity

    def thread(self, community, author, title: str | None = None, body_html: str = "<p>讨论内容</p>", **kwargs):
        from portal.communities.models import Thread

        thread = Thread(community=community, author_id=author.id, title=title or f"话题{self._n()}",
                        body_html=body_html, **kwargs)
        self.db.session.add(thread)
        self.db.session.commit()
        return thread

    def post(self, thread, author, body_html: str = "<p>回复</p>", **kwargs):
        from portal.communities.models import Post

        post = Post(thread_id=thread.id, author_id=author.id, body_html=body_html, **kwargs)
        self.db.session.add(post)
        thread.reply_count += 1
        self.db.session.commit()
        return post

    def project(self, community, lead=None, title: str | None = None, **kwargs):
        from portal.communities.models import Project

        project = Project(community=community, lead_id=(lead or community.leader).id,
                          title=title or f"课题{self._n()}", **kwargs)
        self.db.session.add(project)
        self.db.session.commit()
        return project

